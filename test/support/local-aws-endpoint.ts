import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny AWS endpoint on loopback for query-protocol services (IAM, Elastic Beanstalk): the real SDK
 * client talks HTTP to it, so its own retry middleware runs (aws-sdk-client-mock would bypass it).
 */
export async function localAwsEndpoint(
  answer: (
    form: URLSearchParams,
  ) => { status: number; body: string } | Promise<{ status: number; body: string }>,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      void (async () => {
        try {
          const { status, body: out } = await answer(new URLSearchParams(body));
          res.writeHead(status, { 'content-type': 'text/xml' });
          res.end(out);
        } catch {
          res.writeHead(500);
          res.end();
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
