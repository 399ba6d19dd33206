-- Replays one pre-built HTTP/1.1 request (the exact bytes, signature included) over wrk's
-- keep-alive connections, counts every response by status code, and prints one JSON line.
--
-- PICA_BENCH_REQUEST names the file holding the request; bench/replay.py writes it and reads
-- the line starting with "PICA_BENCH_RESULT " from wrk's output.

local path = os.getenv("PICA_BENCH_REQUEST")
local file = assert(io.open(path, "rb"), "cannot open " .. tostring(path))
local raw = file:read("*a")
file:close()

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

function init(args)
   statuses = {}
end

function request()
   return raw
end

function response(status, headers, body)
   statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
   local counts = {}
   for _, thread in ipairs(threads) do
      local seen = thread:get("statuses")
      for status, count in pairs(seen) do
         counts[status] = (counts[status] or 0) + count
      end
   end
   local parts = {}
   for status, count in pairs(counts) do
      table.insert(parts, string.format('"%d": %d', status, count))
   end
   local e = summary.errors
   io.write(string.format(
      'PICA_BENCH_RESULT {"requests": %d, "duration_us": %d, "statuses": {%s}, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d, "status": %d}, ' ..
      '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
      summary.requests, summary.duration, table.concat(parts, ", "),
      e.connect, e.read, e.write, e.timeout, e.status,
      latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency:percentile(99.9), latency.max, latency.mean))
end
