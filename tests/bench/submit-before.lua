if redis.call('EXISTS', KEYS[1]) == 1 then return {'ok'} end
if ARGV[9] == '1' then
  local prev = redis.call('GET', KEYS[3])
  if prev then return {'idem', prev} end
end
local dup = redis.call('GET', KEYS[4])
if dup then return {'dup', dup} end
local flood_ms = tonumber(ARGV[3])
if flood_ms > 0 then
  local wait = 0
  if ARGV[10] == '1' then local t = redis.call('PTTL', KEYS[5]); if t > wait then wait = t end end
  if ARGV[11] == '1' then local t = redis.call('PTTL', KEYS[6]); if t > wait then wait = t end end
  if wait > 0 then return {'flood', tostring(wait)} end
end
local status, now = ARGV[2], tonumber(ARGV[7])
if status == 'pending' then
  local entry = redis.call('XADD', KEYS[2], '*', 'id', ARGV[1])
  redis.call('HSET', KEYS[1], 'entry', entry, unpack(ARGV, 12))
else
  redis.call('HSET', KEYS[1], unpack(ARGV, 12))
end
if status == 'spam' then
  local ttl = tonumber(ARGV[6])
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('ZADD', KEYS[7], now, ARGV[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', now - ttl * 1000)
end
if status ~= 'pending' then
  redis.call('XADD', KEYS[8], '*', 'id', ARGV[1], 'status', status, 'decided_by', 'rules', 'decided_at', ARGV[7])
end
local dup_ttl = tonumber(ARGV[4])
if dup_ttl > 0 then redis.call('SET', KEYS[4], ARGV[1], 'EX', dup_ttl) end
if flood_ms > 0 then
  if ARGV[10] == '1' then redis.call('SET', KEYS[5], '1', 'PX', flood_ms) end
  if ARGV[11] == '1' then redis.call('SET', KEYS[6], '1', 'PX', flood_ms) end
end
if ARGV[9] == '1' then redis.call('SET', KEYS[3], ARGV[8], 'EX', tonumber(ARGV[5])) end
return {'ok'}
