# The blog post's UDP client loop, reading piped lines instead of input("->"): one socket,
# sendto, recvfrom, print. What `bench/udp_client.ts` measures our udp/client.ts against.
#   python3 bench/baselines/udp_client.py PORT < LINES
import socket
import sys

port = int(sys.argv[1])
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
out = sys.stdout.buffer
for line in sys.stdin.buffer:
    sock.sendto(line.rstrip(b"\n"), ("127.0.0.1", port))
    recvMsg, addr = sock.recvfrom(65536)
    out.write(recvMsg + b"\n")
sock.close()
