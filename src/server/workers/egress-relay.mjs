// The egress relay: run by Node as the first process inside a sandbox that has network
// (sandbox.ts, docs/decisions/0019-task-sandbox.md). The sandbox's network namespace has only a
// loopback; this relay listens there and carries each connection to mainloop's egress proxy,
// whose Unix socket the sandbox shows, then runs the command and ends with it.
//
//   node egress-relay.mjs <proxy socket> <proxy port> [<host:port> …] -- <command> [<arg> …]
//
// <proxy port>: connections are carried as they are (the client speaks HTTP to the proxy:
// HTTPS_PROXY=http://127.0.0.1:<port>). Each <host:port> (a loopback address the person configured,
// such as a local model API) is mirrored: a connection to it inside is tunnelled with CONNECT to
// the same address outside, so the configured URL works unchanged.
//
// Plain JavaScript with no imports of mainloop's: Node runs this file as it is, inside the sandbox.
import { spawn } from 'node:child_process';
import net from 'node:net';

const separator = process.argv.indexOf('--');
const [socketPath, proxyPort, ...mirrors] = process.argv.slice(2, separator);
const [command, ...args] = process.argv.slice(separator + 1);
if (separator < 0 || !socketPath || !proxyPort || !command) {
  process.stderr.write('usage: egress-relay.mjs <socket> <port> [host:port …] -- <command> [args …]\n');
  process.exit(2);
}

/** Carries `client` to the proxy; for a mirror, through a CONNECT to `target` first. */
function carry(client, target) {
  const upstream = net.connect(socketPath);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
  if (!target) {
    client.pipe(upstream);
    upstream.pipe(client);
    return;
  }
  upstream.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`);
  let answer = Buffer.alloc(0);
  const onData = (chunk) => {
    answer = Buffer.concat([answer, chunk]);
    const end = answer.indexOf('\r\n\r\n');
    if (end < 0) {
      if (answer.length > 16_384) close();
      return;
    }
    upstream.off('data', onData);
    if (!/^HTTP\/1\.[01] 200/.test(answer.toString('latin1', 0, end))) return close();
    const rest = answer.subarray(end + 4);
    if (rest.length) client.write(rest);
    client.pipe(upstream);
    upstream.pipe(client);
  };
  upstream.on('data', onData);
}

function listen(port, host, target) {
  return new Promise((resolve, reject) => {
    const server = net.createServer((client) => carry(client, target));
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

try {
  const servers = [await listen(Number(proxyPort), '127.0.0.1')];
  for (const mirror of mirrors) {
    const at = mirror.lastIndexOf(':');
    const host = mirror.slice(0, at).replace(/^\[|\]$/g, '');
    servers.push(await listen(Number(mirror.slice(at + 1)), host, mirror));
  }
  for (const server of servers) server.unref();
} catch (error) {
  process.stderr.write(`mainloop's sandbox could not set up its network: ${error.message}\n`);
  process.exit(126);
}

const child = spawn(command, args, { stdio: 'inherit' });
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(signal, () => child.kill(signal));
}
child.on('error', (error) => {
  process.stderr.write(`${command}: ${error.message}\n`);
  process.exit(error.code === 'ENOENT' ? 127 : 126);
});
child.on('exit', (code, signal) => {
  if (signal) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  process.exit(code ?? 1);
});
