-- wrk script for scripts/bench_serve.sh: per-query map requests (a random layer, head and patch each
-- time, as hovering does) on one cached input; prints p50/p95/p99 latency and requests/s as JSON.
local id, token, rows, cols, layers, heads = os.getenv("INPUT"), os.getenv("TOKEN"), tonumber(os.getenv("ROWS")),
  tonumber(os.getenv("COLS")), tonumber(os.getenv("LAYERS")), tonumber(os.getenv("HEADS"))
wrk.headers["Authorization"] = "Bearer " .. token
local counter = 0
request = function()
  counter = counter + 1
  local l, h = math.random(0, layers - 1), math.random(0, heads - 1)
  local r, c = math.random(0, rows - 1), math.random(0, cols - 1)
  local path = string.format("/api/inputs/%s/attention?layer=%d&head=%d&query=patch:%d,%d&format=f32", id, l, h, r, c)
  if counter % 4 == 0 then
    path = string.format("/api/inputs/%s/attention?layer=%d&fusion=mean&query=patch:%d,%d&format=f32", id, l, r, c)
  end
  return wrk.format("GET", path)
end
done = function(summary, latency, requests)
  io.write(string.format('{"requests": %d, "errors": %d, "seconds": %.2f, "requests_per_second": %.1f, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
