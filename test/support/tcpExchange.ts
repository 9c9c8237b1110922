/** One DNS exchange over TCP, for tests that must see what the server says on TCP. */
import { connect } from 'node:net';
import type { DnsServerAddress } from '../../src/dns/dnsTransport.js';

export function exchangeTcpForTests<T>(
  server: DnsServerAddress,
  message: Buffer,
  accept: (bytes: Buffer) => { result: T } | undefined,
  timeoutMs = 2000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: server.host, port: server.port });
    let buffered: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no TCP answer from ${server.host}:${server.port} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('connect', () => {
      const prefix = Buffer.alloc(2);
      prefix.writeUInt16BE(message.length, 0);
      socket.write(Buffer.concat([prefix, message]));
    });
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const length = buffered.readUInt16BE(0);
        const accepted = accept(buffered.subarray(2, 2 + length));
        buffered = buffered.subarray(2 + length);
        if (accepted !== undefined) {
          clearTimeout(timer);
          socket.destroy();
          return resolve(accepted.result);
        }
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
