-- wrk script: POST a phone response with a fresh UUID per request.
-- wrk -s post.lua URL -- SEED PATH TARGET CHOICE
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local path, target, choice

function init(args)
  math.randomseed(tonumber(args[1]) * 1000 + id)
  path, target, choice = args[2], args[3], args[4]
end

local function uuid4()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function(c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

local headers = {["Content-Type"] = "application/json"}

function request()
  local body = string.format('{"id": "%s", "target": "%s", "answers": {"overall": "%s"}}',
    uuid4(), target, choice)
  return wrk.format("POST", path, headers, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
