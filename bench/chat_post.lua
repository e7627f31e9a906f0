-- chat_post.lua — wrk script for bench/chat.sh (b): POST
-- /api/v1/conversations/ID/messages {content, stream:false} as a signed-in
-- user (cookie + X-CSRF-Token), spread over many conversations because
-- only one reply runs per conversation at a time (a second is a 409).
--
--   wrk … -s bench/chat_post.lua URL -- JOBS_FILE THREADS
-- JOBS_FILE: lines "CONVERSATION_ID COOKIE CSRF" (bench/chat_setup.py).
-- Thread t of THREADS takes conversations t, t+THREADS, … in turn, so no
-- two threads share a conversation and one thread reuses one only after
-- all of its others. done() prints the answers by status.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local ids, headers, step, i
local questions = {
  "How do I change my password?",
  "How do I connect Ollama?",
  "Can I export a conversation as Markdown?",
  "What does the stop button do?",
  "How do I search my old messages?",
}
statuses = {}

function init(args)
  ids = {}
  local cookie, csrf
  for line in io.lines(args[1]) do
    local id, c, t = line:match("^(%d+) (%S+) (%S+)$")
    ids[#ids + 1] = id
    cookie, csrf = c, t
  end
  step = tonumber(args[2])
  i = tid
  headers = {
    ["Content-Type"] = "application/json",
    ["Cookie"] = cookie,
    ["X-CSRF-Token"] = csrf,
  }
end

function request()
  local id = ids[(i % #ids) + 1]
  local q = questions[(i % #questions) + 1]
  i = i + step
  return wrk.format("POST", "/api/v1/conversations/" .. id .. "/messages", headers,
                    '{"content":"' .. q .. '","stream":false}')
end

function response(status, hdrs, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do parts[#parts + 1] = k .. "=" .. v end
  table.sort(parts)
  io.write("statuses " .. table.concat(parts, " ") .. "\n")
end
