"""A fixed-rate HTTP/1.1 load generator (the shape of wrk2): sends GET
requests at RATE per second for SECONDS over CONNS keep-alive connections,
measuring each latency from the time the request was *due* (so a stalled
server shows up as latency, not as a lower rate: no coordinated omission),
and prints p50/p99/max, the achieved rate and the non-200 count.

    python3 rate.py HOST:PORT PATH TOKEN RATE SECONDS [CONNS]
"""
import asyncio, sys, time


async def main():
    addr, path, token, rate, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]), float(sys.argv[5])
    conns = int(sys.argv[6]) if len(sys.argv) > 6 else 16
    host, port = addr.rsplit(":", 1)
    req = (f"GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
    total = int(rate * seconds)
    start = time.perf_counter() + 0.2
    queue = asyncio.Queue()
    for i in range(total):
        queue.put_nowait(start + i / rate)
    latencies, bad = [], 0

    async def worker():
        nonlocal bad
        reader, writer = await asyncio.open_connection(host, int(port))
        while True:
            try:
                due = queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(req)
            await writer.drain()
            status_line = await reader.readline()
            status = int(status_line.split()[1])
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                k, _, v = line.decode().partition(":")
                if k.lower() == "content-length":
                    length = int(v)
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - due)
            if status != 200:
                bad += 1
        writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(conns)))
    took = time.perf_counter() - t0
    latencies.sort()
    q = lambda p: latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000
    print(f"requests {len(latencies)} rate {len(latencies) / took:.1f}/s p50_ms {q(0.50):.2f} "
          f"p99_ms {q(0.99):.2f} max_ms {latencies[-1] * 1000:.2f} non200 {bad}")


asyncio.run(main())
