#!/usr/bin/env python3
"""smtp_server: a real SMTP server for the e2e suites (Debian's python3-aiosmtpd) on 127.0.0.1.

It requires AUTH (PLAIN or LOGIN, allowed without TLS) with one username and password, and writes every
message it accepts to DIR as one JSON file {mail_from, rcpt_tos, login, data} (data: the DATA text after
un-dot-stuffing, as sent). It listens on a free port, writes that port to PORT_FILE once it accepts
connections, and exits when its standard input closes (so it never outlives the test that started it)
or on SIGTERM.

usage: smtp_server.py --dir DIR --port-file PORT_FILE --username USER --password PASS
                      [--reject-rcpt ADDRESS]...
"""
import argparse
import asyncio
import json
import os
import signal
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Handler:
    def __init__(self, directory, reject):
        self.directory = directory
        self.reject = {r.lower() for r in reject}
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "login": login,
            "data": envelope.original_content.decode("utf-8", errors="replace"),
        }
        name = os.path.join(self.directory, "%06d-%d.json" % (self.count, os.getpid()))
        with open(name + ".tmp", "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(name + ".tmp", name)
        return "250 2.0.0 queued as %d" % self.count


def authenticator(username, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == username.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--username", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--reject-rcpt", action="append", default=[])
    a = p.parse_args()

    loop = asyncio.get_running_loop()
    handler = Handler(a.dir, a.reject_rcpt)
    auth = authenticator(a.username, a.password)
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test", authenticator=auth, auth_required=True,
                     auth_require_tls=False),
        "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    with open(a.port_file + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.replace(a.port_file + ".tmp", a.port_file)

    done = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    loop.add_signal_handler(signal.SIGINT, done.set)

    def stdin_ready():
        if not os.read(sys.stdin.fileno(), 4096):
            loop.remove_reader(sys.stdin.fileno())
            done.set()
    loop.add_reader(sys.stdin.fileno(), stdin_ready)
    await done.wait()
    server.close()
    await server.wait_closed()


if __name__ == "__main__":
    asyncio.run(main())
