// Drives pica's ACM PCA API with @aws-sdk/client-acm-pca, as a Node application would.
// Input: env PICA_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, PICA_CSR_FILE (a leaf CSR).
// Output: one JSON object on stdout describing what each step returned; the Python test checks
// it against pica through boto3. Any SDK error ends the script with its name on stderr.
import { readFileSync } from "node:fs";
import {
  ACMPCAClient,
  CreateCertificateAuthorityCommand,
  GetCertificateAuthorityCsrCommand,
  IssueCertificateCommand,
  GetCertificateCommand,
  ImportCertificateAuthorityCertificateCommand,
  DescribeCertificateAuthorityCommand,
  RevokeCertificateCommand,
  waitUntilCertificateAuthorityCSRCreated,
  waitUntilCertificateIssued,
  paginateListCertificateAuthorities,
} from "@aws-sdk/client-acm-pca";

const client = new ACMPCAClient({
  endpoint: process.env.PICA_ENDPOINT,
  region: "us-east-1",
  maxAttempts: 1,
});
const wire = [];
client.middlewareStack.add(
  (next) => async (args) => {
    wire.push({
      path: args.request.path,
      target: args.request.headers["x-amz-target"] ?? null,
      protocol: args.request.headers["smithy-protocol"] ?? null,
      contentType: args.request.headers["content-type"] ?? null,
    });
    return next(args);
  },
  { step: "finalizeRequest", name: "picaWireRecorder" },
);
const waitFor = { client, maxWaitTime: 20, minDelay: 1, maxDelay: 1 };
const encoder = new TextEncoder();

const { CertificateAuthorityArn: caArn } = await client.send(
  new CreateCertificateAuthorityCommand({
    CertificateAuthorityType: "ROOT",
    CertificateAuthorityConfiguration: {
      KeyAlgorithm: "EC_prime256v1",
      SigningAlgorithm: "SHA256WITHECDSA",
      Subject: { CommonName: "pica js sdk root", Organization: "pica tests", Country: "US" },
    },
    Tags: [{ Key: "sdk", Value: "js" }],
  }),
);
await waitUntilCertificateAuthorityCSRCreated(waitFor, { CertificateAuthorityArn: caArn });
const { Csr: caCsr } = await client.send(
  new GetCertificateAuthorityCsrCommand({ CertificateAuthorityArn: caArn }),
);
const { CertificateArn: rootArn } = await client.send(
  new IssueCertificateCommand({
    CertificateAuthorityArn: caArn,
    Csr: encoder.encode(caCsr),
    SigningAlgorithm: "SHA256WITHECDSA",
    TemplateArn: "arn:aws:acm-pca:::template/RootCACertificate/V1",
    Validity: { Value: 5, Type: "YEARS" },
  }),
);
await waitUntilCertificateIssued(waitFor, { CertificateAuthorityArn: caArn, CertificateArn: rootArn });
const root = await client.send(
  new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: rootArn }),
);
await client.send(
  new ImportCertificateAuthorityCertificateCommand({
    CertificateAuthorityArn: caArn,
    Certificate: encoder.encode(root.Certificate),
  }),
);
const described = await client.send(
  new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }),
);

const { CertificateArn: leafArn } = await client.send(
  new IssueCertificateCommand({
    CertificateAuthorityArn: caArn,
    Csr: readFileSync(process.env.PICA_CSR_FILE),
    SigningAlgorithm: "SHA256WITHECDSA",
    Validity: { Value: 10, Type: "DAYS" },
    IdempotencyToken: "js-sdk-leaf",
  }),
);
await waitUntilCertificateIssued(waitFor, { CertificateAuthorityArn: caArn, CertificateArn: leafArn });
const leaf = await client.send(
  new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: leafArn }),
);
const serial = leafArn.split("/").pop();
await client.send(
  new RevokeCertificateCommand({
    CertificateAuthorityArn: caArn,
    CertificateSerial: serial,
    RevocationReason: "SUPERSEDED",
  }),
);
let revokeAgain = null;
try {
  await client.send(
    new RevokeCertificateCommand({
      CertificateAuthorityArn: caArn,
      CertificateSerial: serial,
      RevocationReason: "SUPERSEDED",
    }),
  );
} catch (error) {
  revokeAgain = { name: error.name, status: error.$metadata?.httpStatusCode ?? null };
}

const pages = [];
for await (const page of paginateListCertificateAuthorities({ client, pageSize: 1 }, {})) {
  pages.push(page.CertificateAuthorities.map((ca) => ca.Arn));
}

process.stdout.write(
  JSON.stringify({
    caArn,
    status: described.CertificateAuthority.Status,
    createdAtIsDate: described.CertificateAuthority.CreatedAt instanceof Date,
    createdAt: described.CertificateAuthority.CreatedAt.getTime() / 1000,
    rootCertificate: root.Certificate,
    leafArn,
    leafCertificate: leaf.Certificate,
    leafChain: leaf.CertificateChain,
    revokeAgain,
    pages,
    wire,
  }),
);
