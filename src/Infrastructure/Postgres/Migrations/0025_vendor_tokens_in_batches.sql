-- Vendor rate tokens for every caller waiting at once (issue 11): ops.take_vendor_tokens grants up to p_want tokens in one
-- statement, so a node's callers that queue at its gate (VendorRateGate) while one ask is in flight are served by the
-- next ask together, instead of one database round trip each, one after another (at 300 orders/s that queue was 600
-- round trips a second on one row lock). The tokens are granted at one instant and spent at once by callers already
-- waiting, so the vendor sees exactly what it would have seen from the same takes one by one.
--
-- The bucket's row is read first and inserted only when missing (ops.take_vendor_token inserted on every call, a
-- speculative insertion each time). ops.take_vendor_token stays for nodes of the previous version, as one token of this
-- function (below), so the bucket's arithmetic is written once.
--
-- Answers how many tokens were granted (0..p_want) and, when fewer than asked, how many milliseconds until the next one
-- is there (or until a 429 pause set by any node ends).
create function ops.take_vendor_tokens(p_vendor text, p_rate double precision, p_burst integer, p_want integer,
    out granted integer, out wait_ms double precision)
language plpgsql as $$
declare
    v_tokens double precision;
    v_refilled timestamptz;
    v_paused timestamptz;
    v_now timestamptz;
begin
    granted := 0;
    wait_ms := 0;
    -- The row lock first, the clock after: a caller that waited for the lock must not refill from a time before the
    -- previous holder's.
    select tokens, refilled_at, paused_until into v_tokens, v_refilled, v_paused
      from ops.vendor_rate_buckets where vendor = p_vendor for update;
    if not found then
        insert into ops.vendor_rate_buckets (vendor, tokens, refilled_at) values (p_vendor, p_burst, clock_timestamp())
            on conflict (vendor) do nothing;
        select tokens, refilled_at, paused_until into v_tokens, v_refilled, v_paused
          from ops.vendor_rate_buckets where vendor = p_vendor for update;
    end if;
    v_now := greatest(clock_timestamp(), v_refilled);
    v_tokens := least(p_burst, v_tokens + extract(epoch from v_now - v_refilled) * p_rate);
    if v_paused > v_now then
        wait_ms := extract(epoch from v_paused - v_now) * 1000;
    else
        granted := least(greatest(p_want, 0), floor(v_tokens)::integer);
        v_tokens := v_tokens - granted;
        if granted < p_want then
            wait_ms := greatest(ceil((1 - v_tokens) / p_rate * 1000), 1);
        end if;
    end if;
    update ops.vendor_rate_buckets set tokens = v_tokens, refilled_at = v_now where vendor = p_vendor;
end $$;

create or replace function ops.take_vendor_token(p_vendor text, p_rate double precision, p_burst integer) returns double precision
language sql as $$
    select wait_ms from ops.take_vendor_tokens(p_vendor, p_rate, p_burst, 1);
$$;
