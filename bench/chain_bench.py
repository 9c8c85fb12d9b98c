#!/usr/bin/python3
"""Drives the chain benchmark (bench/run_chain_bench.sh): creates subscriptions on anvil in
JSON-RPC batches and reads inferd's /health and /metrics. Standard library only."""

import http.client
import json
import sys
import time
import urllib.parse
import urllib.request


def rpc(url, payload):
    request = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as reply:
        return json.loads(reply.read())


def call(url, method, params):
    reply = rpc(url, {"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    if "error" in reply:
        raise SystemExit(f"{method} failed: {reply['error']}")
    return reply["result"]


def next_id(url, coordinator):
    # Coordinator.id() selector 0xaf640d0f.
    result = call(url, "eth_call", [{"to": coordinator, "data": "0xaf640d0f"}, "latest"])
    return int(result, 16)


def create(url, sender, consumer, calldata, count, coordinator):
    """Sends `count` transactions `calldata` to `consumer` from the unlocked anvil account
    `sender`, one request at a time on one connection (anvil reorders the transactions of a
    batch and then drops those queued behind a nonce gap), and waits until the coordinator's
    id() has advanced by `count`."""
    start = next_id(url, coordinator)
    parsed = urllib.parse.urlparse(url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
    for i in range(count):
        body = json.dumps({"jsonrpc": "2.0", "id": i, "method": "eth_sendTransaction",
                           "params": [{"from": sender, "to": consumer, "data": calldata,
                                       "gas": hex(400000)}]})
        connection.request("POST", "/", body, {"Content-Type": "application/json"})
        reply = json.loads(connection.getresponse().read())
        if "error" in reply:
            raise SystemExit(f"eth_sendTransaction failed: {reply['error']}")
    connection.close()
    deadline = time.time() + 600
    while next_id(url, coordinator) < start + count:
        if time.time() > deadline:
            raise SystemExit("subscriptions were not all mined within 600 s")
        # anvil's automine can leave a long burst pending; mining a block takes them all.
        call(url, "evm_mine", [])
        time.sleep(0.2)
    return start, start + count - 1


def http_json(url):
    with urllib.request.urlopen(url, timeout=10) as reply:
        return json.loads(reply.read())


def wait_synced(node, last_id, timeout=1800):
    """Seconds until the node's /health reports `last_id` synced."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            health = http_json(f"{node}/health")
            chain = health.get("checks", {}).get("chain", {})
            if chain.get("last_subscription_id", 0) >= last_id:
                return time.monotonic() - began
        except OSError:
            pass
        time.sleep(0.05)
    raise SystemExit(f"the node did not sync subscription {last_id} within {timeout} s")


def histogram(node, name):
    """(count, sum, buckets[(le, cumulative)]) of a histogram in /metrics."""
    with urllib.request.urlopen(f"{node}/metrics", timeout=10) as reply:
        text = reply.read().decode()
    count, total, buckets = 0, 0.0, []
    for line in text.splitlines():
        if line.startswith(f"{name}_count"):
            count = int(float(line.split()[-1]))
        elif line.startswith(f"{name}_sum"):
            total = float(line.split()[-1])
        elif line.startswith(f"{name}_bucket"):
            le = line.split('le="')[1].split('"')[0]
            buckets.append((float("inf") if le == "+Inf" else float(le), int(float(line.split()[-1]))))
    return count, total, buckets


def quantile(before, after, q):
    """Upper bucket bound holding quantile q of the observations between two snapshots."""
    count = after[0] - before[0]
    if count == 0:
        return float("nan")
    previous = dict(before[2])
    for le, cumulative in after[2]:
        if cumulative - previous.get(le, 0) >= q * count:
            return le
    return float("inf")


def main():
    command = sys.argv[1]
    if command == "create":
        url, sender, consumer, calldata, count, coordinator = sys.argv[2:8]
        first, last = create(url, sender, consumer, calldata, int(count), coordinator)
        print(f"{first} {last}")
    elif command == "wait-synced":
        node, last_id = sys.argv[2], int(sys.argv[3])
        print(f"{wait_synced(node, last_id):.2f}")
    elif command == "deliveries":
        # Waits until `count` more deliveries were broadcast than `baseline`, then prints the
        # latency figures of those.
        node, baseline_file, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
        name = "inferd_chain_due_to_broadcast_seconds"
        with open(baseline_file) as f:
            raw = json.load(f)
        before = (raw[0], raw[1], [tuple(b) for b in raw[2]])
        deadline = time.time() + 900
        while True:
            after = histogram(node, name)
            if after[0] - before[0] >= count:
                break
            if time.time() > deadline:
                raise SystemExit(f"only {after[0] - before[0]} of {count} deliveries broadcast")
            time.sleep(0.5)
        n = after[0] - before[0]
        mean = (after[1] - before[1]) / n
        print(f"{n} {mean:.3f} {quantile(before, after, 0.5)} {quantile(before, after, 0.95)}")
    elif command == "snapshot":
        node, out = sys.argv[2], sys.argv[3]
        with open(out, "w") as f:
            json.dump(histogram(node, "inferd_chain_due_to_broadcast_seconds"), f)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
