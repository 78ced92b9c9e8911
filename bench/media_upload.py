"""Upload throughput over the socket, and the server's memory while uploads run at once.

Starts the app under gunicorn (tests/live_server.py, as the Procfile does) on
loopback, then uploads files in UPLOAD_CHUNK_BYTES chunks with python-socketio
clients, each chunk waiting for its ack (as the panel does):

    .venv/bin/python bench/media_upload.py [--size-mb 16] [--parallel 10]

Prints one upload's MB/s alone, then the aggregate MB/s and the server's peak
RSS (its gunicorn worker, sampled from /proc every 50 ms) while --parallel
uploads run at once. Bounded: each upload is one file, and the run stops when
they finish.
"""

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.clients import PyClient  # noqa: E402
from tests.live_server import LiveServer  # noqa: E402

MB = 1024 * 1024


def rss_bytes(pid: int) -> int:
    """Resident memory of a process and its children (gunicorn's arbiter and worker)."""
    total = 0
    for candidate in [pid, *children(pid)]:
        try:
            for line in Path(f"/proc/{candidate}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total = max(total, int(line.split()[1]) * 1024)
        except FileNotFoundError:
            pass
    return total


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def upload(server, token, conversation_id, data: bytes) -> float:
    """One whole upload; returns its seconds."""
    client = PyClient(server.url, token)
    try:
        began = time.perf_counter()
        started = client.call(
            "upload_start",
            {
                "conversationId": conversation_id,
                "filename": "bench.bin",
                "mimeType": "video/mp4",
                "size": len(data),
            },
        )
        upload_id, size, offset = started["uploadId"], started["chunkSize"], 0
        while offset < len(data):
            ack = client.call(
                "upload_chunk",
                {"uploadId": upload_id, "offset": offset, "data": data[offset : offset + size]},
                timeout=60,
            )
            offset = ack["received"]
        finished = client.call("upload_finish", {"uploadId": upload_id}, timeout=60)
        assert finished.get("ok"), finished
        return time.perf_counter() - began
    finally:
        client.close()


def mp4_bytes(size: int) -> bytes:
    """An MP4 signature followed by random bytes: sniffed as video/mp4."""
    head = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
    return head + os.urandom(size - len(head))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mb", type=float, default=16)
    parser.add_argument("--parallel", type=int, default=10)
    args = parser.parse_args()
    size = int(args.size_mb * MB) - 1024  # under the 16 MB video limit
    media_root = tempfile.mkdtemp(prefix="bench-media-")
    server = LiveServer(env={"MEDIA_ROOT": media_root}).start()
    try:
        owner_id = server.create_user("bench@example.com")
        token = server.login("bench@example.com")["accessToken"]
        body = {
            "user_id": owner_id,
            "customer_name": "Bench",
            "customer_phone": "+900",
            "message_content": "hi",
        }
        conversation_id = server.post_webhook(body).json()["data"]["conversationId"]
        data = mp4_bytes(size)
        idle_rss = rss_bytes(server.process.pid)
        seconds = upload(server, token, conversation_id, data)
        print(
            f"one upload: {size / MB:.1f} MiB in {seconds:.2f} s = {size / MB / seconds:.2f} MiB/s"
        )
        peak = [0]
        done = threading.Event()

        def sample():
            while not done.is_set():
                peak[0] = max(peak[0], rss_bytes(server.process.pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        threads = [
            threading.Thread(target=upload, args=(server, token, conversation_id, data))
            for _ in range(args.parallel)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        done.set()
        sampler.join()
        total = size * args.parallel / MB
        print(
            f"{args.parallel} at once: {total:.0f} MiB in {elapsed:.2f} s = "
            f"{total / elapsed:.2f} MiB/s aggregate"
        )
        print(f"server RSS: {idle_rss / MB:.0f} MiB idle, {peak[0] / MB:.0f} MiB peak")
    finally:
        server.close()
        shutil.rmtree(media_root, ignore_errors=True)


if __name__ == "__main__":
    main()
