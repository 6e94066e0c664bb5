-- bench/http.py's wrk script: one request shape, its paths (and bearer tokens) rotated.
--
-- Environment:
--   BENCH_METHOD        GET (default) or POST
--   BENCH_PATHS         file of request paths, one a line (none: wrk's URL)
--   BENCH_TOKENS        file of bearer tokens, one a line (none: anonymous)
--   BENCH_BODIES        file listing files that hold request bodies, one a line (sent as
--                       they are, in turn)
--   BENCH_CONTENT_TYPE  its Content-Type
--   BENCH_HEADER        one more header, "Name: value"
--   BENCH_ONCE          "1": each path once across all threads, then the threads stop
--                       (a status change must be a real transition every time)
--   BENCH_STATUSES      "1": count responses by status and keep the first error's body
--   BENCH_THREADS       wrk's thread count (how "once" mode shares the paths out)
-- done() prints "BENCH key=value ..." lines that bench/http.py parses.

local threads = {}
local count = 0

function setup(thread)
   thread:set("id", count)
   count = count + 1
   threads[#threads + 1] = thread
end

local function lines(variable)
   local out = {}
   local path = os.getenv(variable)
   if path and path ~= "" then
      for line in io.lines(path) do
         if line ~= "" then out[#out + 1] = line end
      end
   end
   return out
end

function init(args)
   method = os.getenv("BENCH_METHOD") or "GET"
   paths = lines("BENCH_PATHS")
   tokens = lines("BENCH_TOKENS")
   once = os.getenv("BENCH_ONCE") == "1"
   stride = once and tonumber(os.getenv("BENCH_THREADS") or "1") or 1
   content_type = os.getenv("BENCH_CONTENT_TYPE")
   extra_name, extra_value = string.match(os.getenv("BENCH_HEADER") or "", "^([^:]+):%s*(.*)$")
   bodies = {}
   for _, body_file in ipairs(lines("BENCH_BODIES")) do
      local f = assert(io.open(body_file, "rb"))
      bodies[#bodies + 1] = f:read("*a")
      f:close()
   end
   -- threads start at different places of the rotation; in "once" mode they interleave
   cursor = once and id or (id * 7919)
   sent = 0
   exhausted = 0
   statuses = {}
   first_error = ""
end

function request()
   local path = nil
   local n = #paths
   if n > 0 then
      if once then
         if cursor >= n then
            exhausted = exhausted + 1
            wrk.thread:stop()
            return wrk.format("GET", "/health")
         end
         path = paths[cursor + 1]
      else
         path = paths[(cursor % n) + 1]
      end
      cursor = cursor + stride
   end
   local headers = {}
   if #tokens > 0 then
      headers["Authorization"] = "Bearer " .. tokens[(sent % #tokens) + 1]
   end
   if content_type then
      headers["Content-Type"] = content_type
   end
   if extra_name then
      headers[extra_name] = extra_value
   end
   local body = nil
   if #bodies > 0 then
      body = bodies[(sent % #bodies) + 1]
   end
   sent = sent + 1
   return wrk.format(method, path, headers, body)
end

-- Reading every response in Lua costs wrk CPU on the cores the servers use, so the timed runs
-- leave it out (wrk still counts non-2xx/3xx) and the warm-up runs keep it (BENCH_STATUSES=1).
if os.getenv("BENCH_STATUSES") == "1" then
   function response(status, headers, body)
      statuses[status] = (statuses[status] or 0) + 1
      if status >= 400 and first_error == "" then
         first_error = string.sub((body or ""):gsub("%s+", " "), 1, 300)
      end
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d connect=%d read=%d write=%d status=%d timeout=%d\n",
      summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
      e.connect, e.read, e.write, e.status, e.timeout))
   local merged, sent_total, extra, err = {}, 0, 0, ""
   for _, thread in ipairs(threads) do
      for code, n in pairs(thread:get("statuses")) do
         merged[code] = (merged[code] or 0) + n
      end
      sent_total = sent_total + thread:get("sent")
      extra = extra + thread:get("exhausted")
      local message = thread:get("first_error")
      if err == "" and message ~= "" then err = message end
   end
   local parts = {}
   for code, n in pairs(merged) do parts[#parts + 1] = code .. ":" .. n end
   io.write("BENCH_STATUSES " .. table.concat(parts, ",") .. "\n")
   io.write(string.format("BENCH_SENT sent=%d exhausted=%d\n", sent_total, extra))
   io.write("BENCH_ERROR " .. err .. "\n")
end
