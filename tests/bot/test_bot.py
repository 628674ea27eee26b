"""`micro bot` in real chat servers, with test users not written here where one exists.

- IRC: Debian's ngircd, started on a port of its own; the test user is a raw IRC client.
- XMPP: Debian's prosody on a port of its own, STARTTLS with a development CA from
  `micro cert dev`; the test user is slixmpp (PyPI), direct messages and a group chat.
- Slack: a replay server, labelled as such (this machine cannot reach Slack): the Web API
  and a Socket Mode WebSocket serving the exchanges in tests/bot/slack-replay.json, shaped
  after Slack's documentation.

One bot answers all three (`--inputs irc,xmpp,slack`), with the greeter and the example
command service `micro.bot.greet` running.

    python3 tests/bot/test_bot.py TARGET_DIR      (scripts/bot-test.sh runs it)
"""

import asyncio
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

import slixmpp
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed

BIN = sys.argv[1]
HERE = os.path.dirname(os.path.abspath(__file__))
HOME = tempfile.mkdtemp(prefix="micro-bot-test-")
ENV = dict(os.environ, MICRO_HOME=os.path.join(HOME, "micro"), MICRO_LOG_LEVEL="info")
for key in list(ENV):
    if key.startswith("MICRO_BOT_"):
        del ENV[key]
PROCS = []
PASSED = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log_path(name):
    return os.path.join(HOME, f"{name}.log")


def start(argv, name, env=None):
    proc = subprocess.Popen(argv, env=env or ENV, stdin=subprocess.DEVNULL,
                            stdout=open(log_path(name) + ".out", "w"), stderr=open(log_path(name), "w"))
    PROCS.append(proc)
    return proc


def exe(name):
    return os.path.join(BIN, name)


def wait_for(what, check, limit=60.0):
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {limit} s")


def port_up(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def ok(name):
    PASSED.append(name)
    print(f"ok   {name}", flush=True)


def registered(name):
    out = subprocess.run([exe("micro"), "services"], env=ENV, capture_output=True, text=True, timeout=60)
    return name in out.stdout.split()


# ---- the chat servers ------------------------------------------------------------------

def start_ngircd(port):
    conf = os.path.join(HOME, "ngircd.conf")
    with open(conf, "w") as f:
        f.write(f"""[Global]
Name = irc.test
Info = micro bot test
Listen = 127.0.0.1
Ports = {port}
MotdPhrase = micro bot test
PidFile = {HOME}/ngircd.pid
[Limits]
MaxConnectionsIP = 0
PingTimeout = 120
[Options]
PAM = no
Ident = no
DNS = no
""")
    proc = start(["ngircd", "-n", "-f", conf], "ngircd")
    wait_for("ngircd listens", lambda: port_up(port))
    return proc


def start_prosody(port):
    certs = os.path.join(HOME, "certs")
    subprocess.run([exe("micro"), "cert", "dev", "localhost", "--dir", certs], env=ENV, check=True,
                   capture_output=True, timeout=60)
    data = os.path.join(HOME, "prosody-data")
    os.makedirs(data, exist_ok=True)
    conf = os.path.join(HOME, "prosody.cfg.lua")
    with open(conf, "w") as f:
        f.write(f"""pidfile = "{HOME}/prosody.pid"
data_path = "{data}"
run_as_root = true
log = {{ info = "{HOME}/prosody.log" }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {port} }}
c2s_direct_tls_ports = {{ }}
s2s_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
admin_socket = "{HOME}/prosody.sock"
modules_enabled = {{ "roster", "saslauth", "tls", "disco", "ping", "posix" }}
modules_disabled = {{ "s2s" }}
authentication = "internal_hashed"
c2s_require_encryption = true
VirtualHost "localhost"
  ssl = {{ certificate = "{certs}/localhost.pem", key = "{certs}/localhost-key.pem" }}
Component "conference.localhost" "muc"
""")
    for user, password in [("micro", "bot-secret"), ("alice", "alice-secret")]:
        subprocess.run(["prosodyctl", "--config", conf, "register", user, "localhost", password],
                       check=True, capture_output=True, timeout=60)
    proc = start(["prosody", "--config", conf, "-F"], "prosody")
    wait_for("prosody listens", lambda: port_up(port))
    return proc, os.path.join(certs, "ca.pem")


# ---- the Slack replay --------------------------------------------------------------------

class SlackReplay:
    """The Web API (HTTP) and Socket Mode (WebSocket) of a Slack workspace, replaying
    tests/bot/slack-replay.json. Records each Web API call and each acknowledgement."""

    def __init__(self):
        with open(os.path.join(HERE, "slack-replay.json")) as f:
            self.script = json.load(f)
        self.http_port = free_port()
        self.ws_port = free_port()
        self.calls = []          # (method, authorization, body)
        self.acks = []           # envelope ids acknowledged
        self.connections = 0
        self.abrupt = []         # connections that ended without a close frame
        self.lock = threading.Lock()
        self.loop = None

    def api_url(self):
        return f"http://127.0.0.1:{self.http_port}/api/"

    def start(self):
        replay = self

        class Api(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                method = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with replay.lock:
                    replay.calls.append((method, self.headers.get("authorization", ""),
                                         json.loads(body or b"{}")))
                if method == "auth.test":
                    answer = replay.script["auth.test"]
                elif method == "apps.connections.open":
                    answer = json.loads(json.dumps(replay.script["apps.connections.open"]).replace(
                        "WS_URL", f"ws://127.0.0.1:{replay.ws_port}"))
                elif method == "chat.postMessage":
                    answer = {"ok": True, "channel": "C0OPS0001", "ts": "1795000099.000100"}
                else:
                    answer = {"ok": False, "error": "unknown_method"}
                data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.http_port), Api)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.pending = asyncio.Queue()
        ready = threading.Event()

        def run_ws():
            self.loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self.loop)
            self.sockets = asyncio.Queue()

            async def handler(ws):
                with self.lock:
                    self.connections += 1
                await ws.send(json.dumps(self.script["hello"]))
                await self.sockets.put(ws)
                try:
                    async for frame in ws:
                        with self.lock:
                            self.acks.append(json.loads(frame).get("envelope_id"))
                except ConnectionClosed as e:
                    # The bot closes with a close frame, also when Slack asks it to reconnect.
                    with self.lock:
                        self.abrupt.append(str(e))

            async def main():
                async with ws_serve(handler, "127.0.0.1", self.ws_port):
                    ready.set()
                    await asyncio.Future()

            self.loop.run_until_complete(main())

        threading.Thread(target=run_ws, daemon=True).start()
        ready.wait(10)

    def next_socket(self, timeout=60):
        return asyncio.run_coroutine_threadsafe(asyncio.wait_for(self.sockets.get(), timeout),
                                                self.loop).result(timeout + 5)

    def send(self, ws, envelope):
        asyncio.run_coroutine_threadsafe(ws.send(json.dumps(envelope)), self.loop).result(10)

    def posts(self):
        with self.lock:
            return [(auth, body) for method, auth, body in self.calls if method == "chat.postMessage"]


# ---- the users ---------------------------------------------------------------------------

class IrcUser:
    """A raw IRC client: NICK/USER, JOIN, PRIVMSG; answers PING."""

    def __init__(self, port, nick):
        self.port, self.nick = port, nick
        self.connect()

    def connect(self):
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.buf = b""
        self.send(f"NICK {self.nick}")
        self.send(f"USER {self.nick} 0 * :test user")
        self.wait_line(lambda l: f" 001 {self.nick} " in l, "the welcome")

    def send(self, line):
        self.sock.sendall((line + "\r\n").encode())

    def lines(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            while b"\r\n" in self.buf:
                line, self.buf = self.buf.split(b"\r\n", 1)
                line = line.decode(errors="replace")
                if line.startswith("PING"):
                    self.send("PONG" + line[4:])
                    continue
                yield line
            self.sock.settimeout(max(0.05, min(0.5, end - time.monotonic())))
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, TimeoutError):
                continue
            if not data:
                return
            self.buf += data

    def wait_line(self, match, what, timeout=30):
        for line in self.lines(timeout):
            if match(line):
                return line
        raise AssertionError(f"IRC: no {what} within {timeout} s")

    def ask(self, target, text, expect, timeout=30):
        """Send `text` to `target`; the bot's lines until one contains `expect`. Lines of
        the bot's answer must go where the question went (the channel, or this user)."""
        self.send(f"PRIVMSG {target} :{text}")
        where = target if target.startswith("#") else self.nick
        got = []
        for line in self.lines(timeout):
            if " PRIVMSG " in line and line.startswith(":micro!"):
                head, said = line.split(" :", 1)
                assert head.endswith(f" PRIVMSG {where}"), line
                got.append(said)
                if expect in said:
                    return got
        raise AssertionError(f"IRC: {text!r} got no answer with {expect!r}; got {got}")


class XmppUser(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca):
        super().__init__(jid, password)
        self.ssl_context = ssl.create_default_context(cafile=ca)
        self.replies = asyncio.Queue()
        self.register_plugin("xep_0045")
        self.add_event_handler("message", self._chat)
        self.add_event_handler("groupchat_message", self._group)

    def _chat(self, msg):
        if msg["type"] in ("chat", "normal"):
            self.replies.put_nowait(("chat", str(msg["from"]), msg["body"]))

    def _group(self, msg):
        if msg["mucnick"] != "alice" and msg["body"]:
            self.replies.put_nowait(("groupchat", str(msg["from"]), msg["body"]))

    async def ask(self, to, text, kind="chat", timeout=30):
        self.send_message(mto=to, mbody=text, mtype=kind)
        return await asyncio.wait_for(self.replies.get(), timeout)


# ---- the checks --------------------------------------------------------------------------

def irc_checks(irc_port):
    user = IrcUser(irc_port, "alice")
    user.send("JOIN #ops")
    # The bot joined at start: the channel's names include it.
    user.wait_line(lambda l: " 353 alice " in l and "micro" in l.split(" :", 1)[-1].replace("@", "").split(),
                   "the bot among #ops's names")
    got = user.ask("#ops", "micro: list services", "micro.bot.greet")
    said = "\n".join(got)
    assert "alice: greeter" in said, got
    ok("irc: `list services` in #ops names the greeter and the command service")

    got = user.ask("#ops", "micro, health greeter", "SERVING")
    assert got[-1].startswith("alice: greeter-") and got[-1].endswith(" SERVING"), got
    ok("irc: `health greeter` says SERVING for its node")

    got = user.ask("#ops", 'micro: call greeter Greeter.Hello {"name":"John"}', "Hello John")
    assert got[-1] == 'alice: {"msg":"Hello John"}', got
    ok("irc: `call greeter Greeter.Hello {\"name\":\"John\"}` (enabled) answers the greeter's JSON")

    got = user.ask("#ops", "micro: greet John Jane", "Hello Jane")
    assert "alice: Hello John" in got, got
    ok("irc: `greet John Jane` is served by the command service micro.bot.greet")

    got = user.ask("#ops", 'micro: register service {"name":"x","nodes":[{"id":"x-1","address":"h:1"}]}', "off")
    assert "--enable register" in got[-1], got
    assert not registered("x")
    ok("irc: `register service` (not enabled) is refused with how to turn it on, and nothing is registered")

    got = user.ask("#ops", "micro: call greeter Greeter.Hello {name:", "not JSON")
    got = user.ask("#ops", "micro: frobnicate", "I don't know `frobnicate`")
    got = user.ask("micro", "ping", "pong")
    assert got[-1] == "pong", got
    ok("irc: bad JSON and unknown commands are answered with why; a private message gets a private answer")

    mallory = IrcUser(irc_port, "mallory")
    got = mallory.ask("micro", "list services", "no commands")
    assert got[-1] == "I take no commands from you on irc", got
    ok("irc: a sender outside --allow-senders is refused, and gets no service list")

    got = user.ask("#ops", "micro: help", "greet NAME")
    assert any("greetings from the greeter service" in line for line in got), got
    ok("irc: `help` lists the built-in commands and the command service's own help")
    return user


async def xmpp_checks(xmpp_port, ca):
    alice = XmppUser("alice@localhost/test", "alice-secret", ca)
    alice.connect("127.0.0.1", xmpp_port)
    await alice.wait_until("session_start", timeout=30)
    alice.send_presence()
    bot = "micro@localhost"

    kind, sender, body = await alice.ask(bot, "list services")
    assert kind == "chat" and sender.startswith("micro@localhost/"), (kind, sender)
    assert body.split("\n") == ["greeter", "micro.bot.greet"], body
    ok("xmpp: `list services` over STARTTLS (prosody, slixmpp as the user)")

    _, _, body = await alice.ask(bot, "health greeter")
    assert body.startswith("greeter-") and body.endswith(" SERVING"), body
    _, _, body = await alice.ask(bot, 'call greeter Greeter.Hello {"name": "John"}')
    assert body == '{"msg":"Hello John"}', body
    _, _, body = await alice.ask(bot, "greet Ada")
    assert body == "Hello Ada", body
    ok("xmpp: `health greeter`, `call greeter Greeter.Hello`, and the command service's `greet`")

    _, _, body = await alice.ask(bot, "time")
    assert body == "`time` is not allowed on xmpp", body
    ok("xmpp: a command outside the input's allow-list is refused with a message")

    await alice.plugin["xep_0045"].join_muc_wait("ops@conference.localhost", "alice", maxstanzas=0, timeout=30)
    kind, sender, body = await alice.ask("ops@conference.localhost", "micro: health greeter", kind="groupchat")
    assert kind == "groupchat" and sender == "ops@conference.localhost/micro", (kind, sender)
    assert body.startswith("alice: greeter-") and body.endswith(" SERVING"), body
    ok("xmpp: in the group chat the bot (which opened the room) answers `micro: health greeter`")
    alice.disconnect()


def slack_checks(replay):
    script = replay.script
    ws = replay.next_socket()
    auths = {m: a for m, a, _ in replay.calls}
    assert auths.get("auth.test") == "Bearer xoxb-test-bot" and auths.get("apps.connections.open") == "Bearer xapp-test-app", replay.calls
    ok("slack (replay): auth.test with the bot token, apps.connections.open with the app token, Socket Mode opened")
    answered = 0
    ignored = 0
    reconnected = False
    for exchange in script["exchanges"]:
        envelope, answer = exchange["envelope"], exchange["answer"]
        replay.send(ws, envelope)
        if answer == "reconnect":
            ws = replay.next_socket()
            assert replay.connections == 2 and not replay.abrupt, replay.abrupt
            opens = [c for c in replay.calls if c[0] == "apps.connections.open"]
            assert len(opens) == 2, replay.calls
            reconnected = True
            continue
        wait_for("the envelope is acknowledged", lambda: envelope["envelope_id"] in replay.acks, 30)
        if answer is None:
            # Its (wrong) answer would come before the next expected one, and be caught there.
            ignored += 1
            continue
        answered += 1
        wait_for(f"an answer to {envelope['envelope_id']}", lambda: len(replay.posts()) >= answered, 30)
        posts = replay.posts()
        assert len(posts) == answered, posts[answered - 1:]
        auth, body = posts[-1]
        assert auth == "Bearer xoxb-test-bot", auth
        assert body["channel"] == answer["channel"], body
        assert body.get("thread_ts") == answer["thread_ts"], body
        for part in answer["contains"]:
            assert part in body["text"], (part, body)
    time.sleep(1.0)
    assert len(replay.posts()) == answered, replay.posts()[answered:]
    ok(f"slack (replay): every envelope acknowledged; {answered} answers in the right channel and thread "
       f"(mention, direct message, typographic quotes, allow-list refusal); {ignored} ignored "
       "(its own message, another bot's, an edit, a redelivered event)")
    assert reconnected
    ok("slack (replay): a `disconnect` envelope makes the bot close and open a new Socket Mode connection, and go on")


def connected(proc, name, input_name):
    """Whether the bot's log says `input_name` is connected (it must still run)."""
    text = open(log_path(name)).read()
    if proc.poll() is not None:
        raise AssertionError(f"micro bot exited: {text}")
    return any(input_name in line and "connected" in line for line in text.splitlines())


def stop(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def main():
    irc_port, xmpp_port = free_port(), free_port()
    ngircd = start_ngircd(irc_port)
    prosody, ca = start_prosody(xmpp_port)
    replay = SlackReplay()
    replay.start()

    start([exe("greeter-server")], "greeter")
    wait_for("the greeter registers", lambda: registered("greeter"))
    command = start([exe("greet-command")], "greet-command")
    wait_for("the command service registers", lambda: registered("micro.bot.greet"))

    env = dict(ENV,
               MICRO_BOT_XMPP_PASSWORD="bot-secret",
               MICRO_BOT_SLACK_BOT_TOKEN="xoxb-test-bot",
               MICRO_BOT_SLACK_APP_TOKEN="xapp-test-app",
               MICRO_BOT_SLACK_API=replay.api_url(),
               MICRO_BOT_ALLOW="slack=help,list,ping,call,greet;xmpp=list,health,call,greet",
               MICRO_BOT_ALLOW_SENDERS="irc=alice")
    bot = start([exe("micro"), "bot", "--inputs", "irc,xmpp,slack", "--enable", "call",
                 "--irc-address", f"127.0.0.1:{irc_port}", "--irc-channels", "#ops",
                 "--xmpp-jid", "micro@localhost", "--xmpp-address", f"127.0.0.1:{xmpp_port}",
                 "--xmpp-rooms", "ops@conference.localhost", "--ca-file", ca], "bot", env=env)

    for name in ["irc", "xmpp", "slack"]:
        wait_for(f"the bot connects to {name}", lambda: connected(bot, "bot", name))

    user = irc_checks(irc_port)
    asyncio.run(xmpp_checks(xmpp_port, ca))
    slack_checks(replay)

    # Live registry: the command leaves with its service.
    stop(command)
    wait_for("the command service leaves", lambda: not registered("micro.bot.greet"))
    got = user.ask("#ops", "micro: greet John", "I don't know `greet`")
    ok("irc: when the command service stops, `greet` is no longer a command")

    # The IRC server restarts: the bot comes back on its own.
    stop(ngircd)
    ngircd = start_ngircd(irc_port)
    user = IrcUser(irc_port, "alice")
    def answers():
        try:
            return user.ask("micro", "ping", "pong", timeout=5)[-1] == "pong"
        except AssertionError:
            return False

    wait_for("the bot is back on IRC", answers, 90)
    user.send("JOIN #ops")
    user.wait_line(lambda l: " 353 alice " in l and "micro" in l.split(" :", 1)[-1].replace("@", "").split(),
                   "the bot back in #ops")
    ok("irc: after the IRC server restarts the bot reconnects, rejoins #ops and answers again")

    # A refused login is an error that stops the bot, naming the account.
    bad = subprocess.run([exe("micro"), "bot", "--inputs", "xmpp", "--xmpp-jid", "micro@localhost",
                          "--xmpp-address", f"127.0.0.1:{xmpp_port}", "--ca-file", ca],
                         env=dict(ENV, MICRO_BOT_XMPP_PASSWORD="wrong"), capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode != 0 and "refused micro@localhost: not-authorized" in bad.stderr, bad.stderr
    ok("xmpp: a wrong password stops the bot with the server's refusal, naming the account")

    # A server whose certificate nothing vouches for gets no password: the bot says why
    # and keeps trying (the certificate may be fixed), without signing in.
    untrusting = start([exe("micro"), "bot", "--inputs", "xmpp", "--xmpp-jid", "micro@localhost",
                        "--xmpp-address", f"127.0.0.1:{xmpp_port}"], "untrusting",
                       env=dict(ENV, MICRO_BOT_XMPP_PASSWORD="bot-secret"))
    wait_for("the bot refuses the certificate", lambda: "UnknownIssuer" in open(log_path("untrusting")).read())
    assert not connected(untrusting, "untrusting", "xmpp")
    stop(untrusting)
    ok("xmpp: a certificate from an unknown authority is refused before the login, and the log says so")

    # SIGINT: the bot says goodbye on IRC and exits 0.
    bot.send_signal(signal.SIGINT)
    user.wait_line(lambda l: l.startswith(":micro!") and " QUIT " in l and "micro bot stopping" in l,
                   "the bot's QUIT")
    assert bot.wait(30) == 0, open(log_path("bot")).read()
    ok("irc: on SIGINT the bot quits with a goodbye and exits 0")
    for name in ["bot", "untrusting"]:
        text = open(log_path(name)).read() + open(log_path(name) + ".out").read()
        for secret in ["bot-secret", "xoxb-test-bot", "xapp-test-app"]:
            assert secret not in text, f"{secret} reached the log of {name}"
    ok("the bots' logs hold no password or token")


if __name__ == "__main__":
    try:
        main()
        print(f"{len(PASSED)} checks passed")
    finally:
        for proc in PROCS:
            if proc.poll() is None:
                proc.kill()
        if os.environ.get("MICRO_KEEP_TEST_HOME"):
            print(f"logs in {HOME}")
        else:
            shutil.rmtree(HOME, ignore_errors=True)
