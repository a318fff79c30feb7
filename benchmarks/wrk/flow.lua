-- wrk script: a citizen's phone flow, GET the survey page then POST its form, fresh cookies
-- each time. Run with one connection per thread (-t N -c N): the state below is per thread.
-- wrk -s flow.lua URL -- GET_PATH POST_PATH CHOICE
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local get_path, post_path, choice
local state, cookie, token, rid = "get", nil, nil, nil
posts, pages, bad = 0, 0, 0

function init(args)
  get_path, post_path, choice = args[1], args[2], args[3]
end

local function urlencode(s)
  return (string.gsub(s, "[^%w%-_%.~]", function(c) return string.format("%%%02X", string.byte(c)) end))
end

function request()
  if state == "get" then
    return wrk.format("GET", get_path)
  end
  local body = "response_id=" .. rid .. "&overall=" .. choice .. "&comment=Nhanh+g%E1%BB%8Dn"
  if token then body = body .. "&csrf_token=" .. urlencode(token) end
  local headers = {["Content-Type"] = "application/x-www-form-urlencoded"}
  if cookie then headers["Cookie"] = cookie end
  return wrk.format("POST", post_path, headers, body)
end

function response(status, headers, body)
  if state == "get" then
    rid = status == 200 and body:match('name="response_id" value="([^"]+)"') or nil
    if rid then
      pages = pages + 1
      token = body:match('name="csrf_token" value="([^"]+)"')
      local set = headers["Set-Cookie"]
      cookie = set and set:match("^([^;]+)") or nil
      state = "post"
    else
      bad = bad + 1
    end
  else
    if status == 302 or status == 303 then posts = posts + 1 else bad = bad + 1 end
    state, cookie, token, rid = "get", nil, nil, nil
  end
end

function done(summary, latency, requests)
  local p, g, b = 0, 0, 0
  for _, t in ipairs(threads) do
    p = p + t:get("posts"); g = g + t:get("pages"); b = b + t:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "posts": %d, "pages": %d, ' ..
    '"bad": %d}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), p, g, b))
end
