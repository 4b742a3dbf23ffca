#!/usr/bin/env python3
"""https_receiver.py CERT KEY LOG — an HTTPS endpoint for the webhook tests.

Listens on 127.0.0.1 (a free port, printed on the first line of stdout),
answers every POST with 204 and appends one JSON line per request to LOG:
{"path", "signature", "delivery", "body"}. Perl's core has no TLS, so the
webhook's https tests use Python's standard library for the server side."""
import http.server
import json
import ssl
import sys

cert, key, log = sys.argv[1:4]


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with open(log, "a") as f:
            f.write(json.dumps({"path": self.path, "signature": self.headers.get("X-Raqib-Signature", ""),
                                "delivery": self.headers.get("X-Raqib-Delivery", ""), "body": body}) + "\n")
        self.send_response(204)
        self.send_header("Connection", "close")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
