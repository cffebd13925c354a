package queue

import "github.com/redis/go-redis/v9"

// The keys of a run, in the order every script gets them as KEYS. Each
// script may touch any of them, and every script that writes refreshes
// the expiry of all of them (PEXPIRE, ARGV[1] milliseconds), so a run's
// keys live and die together.
const (
	keyMeta     = iota // hash: fingerprint, total, registered_by, created_ms, reclaimed
	keyUnits           // hash: unit ID → payload
	keyOrder           // list: unit IDs in plan order (never changes after Register)
	keyPending         // list: unit IDs waiting for a lease, next at the head
	keyLeased          // sorted set: unit ID → lease deadline, ms on the server's clock
	keyOwner           // hash: unit ID → token of its current lease
	keyResults         // hash: unit ID → result (HSETNX: the first one stays)
	keyBy              // hash: unit ID → token of the lease that produced the result
	keyAttempts        // hash: unit ID → how many leases it has had
	keyJobs            // sorted set: job name → last time it was seen, ms
	numKeys
)

var keyNames = [numKeys]string{"meta", "units", "order", "pending", "leased", "owner", "results", "by", "attempts", "jobs"}

// prelude is shared by every script. Time is the server's (TIME), so the
// clocks of the CI machines do not matter.
const prelude = `
local function touch()
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`

// registerScript: ARGV = ttl, fingerprint, job, n, n IDs, n payloads.
// Returns {1|0 (this call registered), plan fingerprint, registered_by}.
var registerScript = redis.NewScript(prelude + `
local t = now()
local fp = redis.call('HGET', KEYS[1], 'fingerprint')
if fp then
  local by = redis.call('HGET', KEYS[1], 'registered_by') or ''
  if fp == ARGV[2] then
    redis.call('ZADD', KEYS[10], t, ARGV[3])
    touch()
  end
  return {0, fp, by}
end
local n = tonumber(ARGV[4])
redis.call('HSET', KEYS[1], 'fingerprint', ARGV[2], 'total', n, 'registered_by', ARGV[3], 'created_ms', t, 'reclaimed', 0)
local batch = 512
for i = 1, n, batch do
  local last = math.min(i + batch - 1, n)
  local ids, kv = {}, {}
  for j = i, last do
    ids[#ids + 1] = ARGV[4 + j]
    kv[#kv + 1] = ARGV[4 + j]
    kv[#kv + 1] = ARGV[4 + n + j]
  end
  redis.call('RPUSH', KEYS[3], unpack(ids))
  redis.call('RPUSH', KEYS[4], unpack(ids))
  redis.call('HSET', KEYS[2], unpack(kv))
end
redis.call('ZADD', KEYS[10], t, ARGV[3])
touch()
return {1, ARGV[2], ARGV[3]}
`)

// leaseScript: ARGV = ttl, lease ms, holder (job/worker), job.
// An expired lease is taken over first (reclaim), else the head of the
// pending list. Returns {'unit', id, payload, attempt, token, ms left,
// previous token} or {'drained'} or {'wait', ms until the next lease
// deadline, 0 if none} or {'none'} (no plan).
var leaseScript = redis.NewScript(prelude + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'none'} end
local t = now()
redis.call('ZADD', KEYS[10], t, ARGV[4])
local id, prev = false, ''
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', t, 'LIMIT', 0, 1)
if #expired > 0 then
  id = expired[1]
  prev = redis.call('HGET', KEYS[6], id) or ''
  redis.call('HINCRBY', KEYS[1], 'reclaimed', 1)
else
  id = redis.call('LPOP', KEYS[4])
end
if id then
  local attempt = redis.call('HINCRBY', KEYS[9], id, 1)
  local token = ARGV[3] .. '#' .. attempt
  local ms = tonumber(ARGV[2])
  redis.call('ZADD', KEYS[5], t + ms, id)
  redis.call('HSET', KEYS[6], id, token)
  touch()
  return {'unit', id, redis.call('HGET', KEYS[2], id) or '', attempt, token, ms, prev}
end
touch()
local total = tonumber(redis.call('HGET', KEYS[1], 'total'))
if redis.call('HLEN', KEYS[7]) >= total then return {'drained'} end
local next = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
if #next == 0 then return {'wait', 0} end
return {'wait', tonumber(next[2]) - t}
`)

// completeScript: ARGV = ttl, id, result, token. Returns {'ok'},
// {'dup', token of the recorded result}, {'unknown'} or {'none'}.
// A repeated call with the same token (a retried request) is 'ok'.
var completeScript = redis.NewScript(prelude + `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'none'} end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 0 then return {'unknown'} end
if redis.call('HSETNX', KEYS[7], ARGV[2], ARGV[3]) == 0 then
  local by = redis.call('HGET', KEYS[8], ARGV[2]) or ''
  if by == ARGV[4] then return {'ok'} end
  return {'dup', by}
end
redis.call('HSET', KEYS[8], ARGV[2], ARGV[4])
if redis.call('ZREM', KEYS[5], ARGV[2]) == 0 then
  -- Not leased: its lease was requeued after being reclaimed from the
  -- job reporting now. Keep every unit in exactly one of pending, leased
  -- and results.
  redis.call('LREM', KEYS[4], 0, ARGV[2])
end
redis.call('HDEL', KEYS[6], ARGV[2])
touch()
return {'ok'}
`)

// requeueScript: ARGV = ttl, id, token. Returns 1 if the lease was the
// caller's and the unit is back at the head of the pending list, else 0.
var requeueScript = redis.NewScript(prelude + `
if redis.call('HGET', KEYS[6], ARGV[2]) ~= ARGV[3] then return 0 end
redis.call('ZREM', KEYS[5], ARGV[2])
redis.call('HDEL', KEYS[6], ARGV[2])
redis.call('LPUSH', KEYS[4], ARGV[2])
touch()
return 1
`)

// heartbeatScript: ARGV = ttl, lease ms, job, then id, token pairs.
// Extends the leases still held and returns the IDs of the others (lost:
// reclaimed by another job, or the run is gone).
var heartbeatScript = redis.NewScript(prelude + `
local lost = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
  for i = 4, #ARGV, 2 do lost[#lost + 1] = ARGV[i] end
  return lost
end
local t = now()
redis.call('ZADD', KEYS[10], t, ARGV[3])
local deadline = t + tonumber(ARGV[2])
for i = 4, #ARGV, 2 do
  if redis.call('HGET', KEYS[6], ARGV[i]) == ARGV[i + 1] then
    redis.call('ZADD', KEYS[5], 'XX', deadline, ARGV[i])
  else
    lost[#lost + 1] = ARGV[i]
  end
end
touch()
return lost
`)

// progressScript: no ARGV. Read-only. Returns {fingerprint (empty: none), total
// or -1, registered_by, reclaimed, pending, leased, expired leases, done,
// now ms, job, last seen ms, job, last seen ms, ...}.
var progressScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local m = redis.call('HMGET', KEYS[1], 'fingerprint', 'total', 'registered_by', 'reclaimed')
local r = {m[1] or '', tonumber(m[2] or -1), m[3] or '', tonumber(m[4] or 0),
  redis.call('LLEN', KEYS[4]), redis.call('ZCARD', KEYS[5]),
  redis.call('ZCOUNT', KEYS[5], '-inf', now), redis.call('HLEN', KEYS[7]), now}
local jobs = redis.call('ZRANGE', KEYS[10], 0, -1, 'WITHSCORES')
for i = 1, #jobs do r[#r + 1] = jobs[i] end
return r
`)

// missingScript: no ARGV. Read-only. Returns the units without a result
// in plan order, as id, token of its current lease (empty when queued) pairs.
var missingScript = redis.NewScript(`
local r = {}
local ids = redis.call('LRANGE', KEYS[3], 0, -1)
for _, id in ipairs(ids) do
  if redis.call('HEXISTS', KEYS[7], id) == 0 then
    r[#r + 1] = id
    r[#r + 1] = redis.call('HGET', KEYS[6], id) or ''
  end
end
return r
`)
