/**
 * Migration 3 of the PostgreSQL store: `hubbub_append_batch`, the server side of group commit. The batcher calls it
 * as ONE statement outside any transaction block, so the whole batch is one round trip and one implicit
 * transaction; the reply arrives only after its COMMIT (node-postgres resolves on ReadyForQuery).
 *
 * Input: one array element per message, every (room, user_id, client_msg_id) key distinct (the batcher folds
 * repeats inside a batch beforehand). Output: one row per input (`ord` = 1-based position), the stored message:
 * the new one (`duplicate` false), or the original one for a key already stored (`duplicate` true).
 *
 *   1. One counter bump per room by its message count (`last_seq = last_seq + n`; missing counter rows are
 *      created), fed in room order: the row locks are taken in one global order, so instances never deadlock.
 *      From here until COMMIT every writer of these rooms waits for us.
 *   2. The keys already stored are looked up now, under those locks (each statement of a plpgsql function sees
 *      what committed before it started), so no other writer can add one of them before we commit.
 *   3. Rooms that had duplicates give their seqs back (`last_seq - d`): seq stays gapless.
 *   4. One multi-row INSERT of the new messages, numbered after the room's previous last seq in input order,
 *      and one of their `message.created` outbox rows (when p_outbox), payload = the message's JSON.
 */
export const APPEND_BATCH_FUNCTION_SQL = `
CREATE FUNCTION hubbub_append_batch(
  p_room text[], p_user text[], p_name text[], p_text text[], p_cid text[], p_id uuid[], p_event uuid[],
  p_ts bigint, p_outbox boolean)
RETURNS TABLE (ord integer, duplicate boolean, id uuid, room text, seq bigint, user_id text, name text,
               text text, ts bigint, client_msg_id text)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  dups integer[];
BEGIN
  INSERT INTO rooms AS t (room, last_seq)
    SELECT r, count(*) FROM unnest(p_room) AS r GROUP BY r ORDER BY r
    ON CONFLICT (room) DO UPDATE SET last_seq = t.last_seq + excluded.last_seq;

  SELECT array_agg(i.ord::integer) INTO dups
    FROM unnest(p_room, p_user, p_cid) WITH ORDINALITY AS i(room, user_id, cid, ord)
    JOIN messages m ON m.room = i.room AND m.user_id = i.user_id AND m.client_msg_id = i.cid;

  IF dups IS NOT NULL THEN
    UPDATE rooms AS t SET last_seq = t.last_seq - d.n
      FROM (SELECT p_room[o] AS room, count(*) AS n FROM unnest(dups) AS o GROUP BY 1) AS d
      WHERE t.room = d.room;
  END IF;

  RETURN QUERY
  WITH input AS (
    SELECT i.*, i.ord::integer AS pos
      FROM unnest(p_room, p_user, p_name, p_text, p_cid, p_id, p_event)
           WITH ORDINALITY AS i(room, user_id, name, text, cid, id, event_id, ord)
  ), fresh AS (
    SELECT f.*, r.last_seq - count(*) OVER w + row_number() OVER (w ORDER BY f.pos) AS seq
      FROM input f JOIN rooms r ON r.room = f.room
      WHERE f.pos <> ALL (coalesce(dups, '{}'))
      WINDOW w AS (PARTITION BY f.room)
  ), inserted AS (
    INSERT INTO messages (id, room, seq, user_id, name, text, ts, client_msg_id)
      SELECT id, room, seq, user_id, name, text, p_ts, cid FROM fresh
  ), events AS (
    INSERT INTO webhook_outbox (id, type, payload, ts, next_attempt_at)
      SELECT event_id, 'message.created',
             json_strip_nulls(json_build_object('id', id, 'room', room, 'seq', seq, 'userId', user_id,
               'text', text, 'ts', p_ts, 'name', name, 'clientMsgId', cid))::text,
             p_ts, p_ts
        FROM fresh WHERE p_outbox
  )
  SELECT f.pos, false, f.id, f.room, f.seq, f.user_id, f.name, f.text, p_ts, f.cid FROM fresh f
  UNION ALL
  SELECT i.pos, true, m.id, m.room, m.seq, m.user_id, m.name, m.text, m.ts, m.client_msg_id
    FROM input i JOIN messages m ON m.room = i.room AND m.user_id = i.user_id AND m.client_msg_id = i.cid
    WHERE i.pos = ANY (coalesce(dups, '{}'));
END
$fn$;`;

/**
 * Migration 6: `hubbub_append_batch2`, the same group commit as `hubbub_append_batch` (kept, so an instance of the
 * previous version still appends during a rolling upgrade) with the chat-lifecycle fields: `p_reply` (replyTo seq or
 * NULL) and `p_mentions` (JSON text array of user ids or NULL) per message; the mentions also become
 * message_mentions rows, in the same statement. Returns the new columns too.
 */
export const APPEND_BATCH2_FUNCTION_SQL = `
CREATE FUNCTION hubbub_append_batch2(
  p_room text[], p_user text[], p_name text[], p_text text[], p_cid text[], p_id uuid[], p_event uuid[],
  p_reply bigint[], p_mentions text[], p_ts bigint, p_outbox boolean)
RETURNS TABLE (ord integer, duplicate boolean, id uuid, room text, seq bigint, user_id text, name text,
               text text, ts bigint, client_msg_id text, reply_to bigint, mentions text[], edited_at bigint,
               deleted boolean, reactions jsonb)
LANGUAGE plpgsql AS $fn$
#variable_conflict use_column
DECLARE
  dups integer[];
BEGIN
  INSERT INTO rooms AS t (room, last_seq)
    SELECT r, count(*) FROM unnest(p_room) AS r GROUP BY r ORDER BY r
    ON CONFLICT (room) DO UPDATE SET last_seq = t.last_seq + excluded.last_seq;

  SELECT array_agg(i.ord::integer) INTO dups
    FROM unnest(p_room, p_user, p_cid) WITH ORDINALITY AS i(room, user_id, cid, ord)
    JOIN messages m ON m.room = i.room AND m.user_id = i.user_id AND m.client_msg_id = i.cid;

  IF dups IS NOT NULL THEN
    UPDATE rooms AS t SET last_seq = t.last_seq - d.n
      FROM (SELECT p_room[o] AS room, count(*) AS n FROM unnest(dups) AS o GROUP BY 1) AS d
      WHERE t.room = d.room;
  END IF;

  RETURN QUERY
  WITH input AS (
    SELECT i.*, i.ord::integer AS pos,
           CASE WHEN i.mjson IS NULL THEN NULL
                ELSE ARRAY(SELECT jsonb_array_elements_text(i.mjson::jsonb)) END AS mentions
      FROM unnest(p_room, p_user, p_name, p_text, p_cid, p_id, p_event, p_reply, p_mentions)
           WITH ORDINALITY AS i(room, user_id, name, text, cid, id, event_id, reply, mjson, ord)
  ), fresh AS (
    SELECT f.*, r.last_seq - count(*) OVER w + row_number() OVER (w ORDER BY f.pos) AS seq
      FROM input f JOIN rooms r ON r.room = f.room
      WHERE f.pos <> ALL (coalesce(dups, '{}'))
      WINDOW w AS (PARTITION BY f.room)
  ), inserted AS (
    INSERT INTO messages (id, room, seq, user_id, name, text, ts, client_msg_id, reply_to, mentions)
      SELECT id, room, seq, user_id, name, text, p_ts, cid, reply, mentions FROM fresh
  ), mentioned AS (
    INSERT INTO message_mentions (room, seq, user_id)
      SELECT DISTINCT f.room, f.seq, u FROM fresh f, unnest(f.mentions) AS u
  ), events AS (
    INSERT INTO webhook_outbox (id, type, payload, ts, next_attempt_at)
      SELECT event_id, 'message.created',
             json_strip_nulls(json_build_object('id', id, 'room', room, 'seq', seq, 'userId', user_id,
               'text', text, 'ts', p_ts, 'name', name, 'clientMsgId', cid, 'replyTo', reply,
               'mentions', mjson::json))::text,
             p_ts, p_ts
        FROM fresh WHERE p_outbox
  )
  SELECT f.pos, false, f.id, f.room, f.seq, f.user_id, f.name, f.text, p_ts, f.cid, f.reply, f.mentions,
         NULL::bigint, false, NULL::jsonb
    FROM fresh f
  UNION ALL
  SELECT i.pos, true, m.id, m.room, m.seq, m.user_id, m.name, m.text, m.ts, m.client_msg_id, m.reply_to,
         m.mentions, m.edited_at, m.deleted, m.reactions
    FROM input i JOIN messages m ON m.room = i.room AND m.user_id = i.user_id AND m.client_msg_id = i.cid
    WHERE i.pos = ANY (coalesce(dups, '{}'));
END
$fn$;`;
