import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCertificates {
  dir: string;
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  /** A second server certificate from the same CA, for reload tests. */
  renewedCertFile: string;
  renewedKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  /** The client certificate's subject as Kafka's principal builder writes it. */
  clientPrincipal: string;
  /** A client certificate signed by a CA the broker does not trust. */
  strangerCertFile: string;
  strangerKeyFile: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function signedCertificate(cwd: string, name: string, subject: string, ca: string, extensions: string | undefined): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], cwd);
  openssl(['req', '-new', '-key', `${name}.key`, '-subj', subject, '-out', `${name}.csr`], cwd);
  const args = ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.pem`];
  if (extensions !== undefined) {
    writeFileSync(join(cwd, `${name}.ext`), extensions);
    args.push('-extfile', `${name}.ext`);
  }
  openssl(args, cwd);
}

function selfSignedCa(cwd: string, name: string, subject: string): void {
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`], cwd);
  openssl(['req', '-x509', '-new', '-key', `${name}.key`, '-subj', subject, '-days', '2', '-out', `${name}.pem`], cwd);
}

/** A throwaway CA, server certificates for 127.0.0.1/localhost and client certificates, made with `openssl` in a temp dir. */
export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'rill-certs-'));
  const serverExt = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n';
  selfSignedCa(dir, 'ca', '/CN=Rill Test CA');
  signedCertificate(dir, 'server', '/CN=localhost', 'ca', serverExt);
  signedCertificate(dir, 'renewed', '/CN=localhost renewed', 'ca', serverExt);
  signedCertificate(dir, 'client', '/C=DE/O=acme/OU=eng/CN=alice', 'ca', 'extendedKeyUsage=clientAuth\n');
  selfSignedCa(dir, 'other-ca', '/CN=Someone Else CA');
  signedCertificate(dir, 'stranger', '/CN=mallory', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    caFile: join(dir, 'ca.pem'),
    serverCertFile: join(dir, 'server.pem'),
    serverKeyFile: join(dir, 'server.key'),
    renewedCertFile: join(dir, 'renewed.pem'),
    renewedKeyFile: join(dir, 'renewed.key'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
    clientPrincipal: 'User:CN=alice,OU=eng,O=acme,C=DE',
    strangerCertFile: join(dir, 'stranger.pem'),
    strangerKeyFile: join(dir, 'stranger.key'),
  };
}
