"""A client for xenon-vmm's control socket (docs/monitor.md): one JSON
request per connection, one JSON line back.  No pytest dependencies, so
the slow suite (tests/slow) uses it too."""
import json
import socket


def request(path, req, fds=None, timeout=60):
    """One control request; returns the parsed reply."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(path))
        data = json.dumps(req).encode() + b"\n"
        if fds:
            socket.send_fds(s, [data], fds)
        else:
            s.sendall(data)
        reply = b""
        while not reply.endswith(b"\n"):
            chunk = s.recv(65536)
            assert chunk, f"control socket closed without a reply to {req}"
            reply += chunk
    return json.loads(reply)
