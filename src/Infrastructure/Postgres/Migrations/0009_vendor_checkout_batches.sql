-- Gift-card checkouts that carry several order lines (GiftCardCheckoutBatcher): which line went out in which vendor
-- order, recorded before the checkout is sent, so that after a crash or a lost answer a line is followed in its batch
-- (or the very same batch is sent again under the same request id) and never bought twice.
create schema if not exists ops;

create table ops.vendor_checkout_items (
    line_request_id    text        primary key,   -- the order line's own request id
    vendor             text        not null,
    batch_request_id   text        not null,      -- the vendor order's request id
    item               int         not null,      -- index of the line among the batch's products
    vendor_product_id  text        not null,
    quantity           int         not null,
    face_value         bigint      not null,      -- minor units
    currency           text        not null,
    at                 timestamptz not null default now(),
    unique (batch_request_id, item)
);
create index vendor_checkout_items_at on ops.vendor_checkout_items (at);
