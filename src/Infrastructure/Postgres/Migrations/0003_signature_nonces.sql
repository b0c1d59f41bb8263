-- Nonces of accepted signed partner requests (RFC 9421), shared by every API node. A request whose
-- (key id, nonce) is already here and not yet expired is a replay. Rows are pruned once expired.
create table steller.signature_nonces (
    key_id     text        not null,
    nonce      text        not null,
    expires_at timestamptz not null,
    primary key (key_id, nonce)
);

create index signature_nonces_expires_at on steller.signature_nonces (expires_at);
