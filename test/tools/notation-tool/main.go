// Command notation-tool is the test tool that stands in for the `notation` CLI (which the Go
// module proxy does not serve) in trustgate's tests: it signs, verifies and attaches Notary
// Project signatures with notation-go v1.3's own library calls, the way notation v1.3's CLI makes
// them (github.com/notaryproject/notation cmd/notation/{sign,verify,registry}.go), so that every
// expected verdict of a trustgate test comes from the reference implementation.
//
// See usage below and README.md. Exit codes: 0 success (verify: verified), 1 failure (verify:
// refused), 2 usage.
package main

import (
	"errors"
	"fmt"
	"os"
)

const usage = `notation-tool: Notary Project signatures for trustgate's tests, made and checked by notation-go.

  notation-tool pki --out DIR
      A test PKI: PEM certificates (*.crt), PKCS#8 keys (*.key), chains (*.chain.pem: leaf first,
      root last) and a notation trust store DIR/truststore/x509/{ca,signingAuthority,tsa}/<name>/.
      See README.md for every name.
  notation-tool leaf --pki DIR --name NAME [--issuer intermediate-ca] [--key-type p256|p384|rsa3072]
                     [--subject "C=US, ST=WA, O=Acme Rockets, CN=..."] [--valid-for 5s]
                     [--crl-url URL] [--self-signed]
      One more code-signing leaf in DIR (NAME.crt, NAME.key, NAME.chain.pem), e.g. one that
      expires seconds from now.
  notation-tool sign [registry flags] --key K --cert CHAIN [--envelope jws|cose] [--expiry 24h]
                     [--signing-scheme notary.x509|notary.x509.signingAuthority]
                     [--user-metadata k=v]... [--force-referrers-tag=true|false]
                     [--critical-header k=v]... [--timestamp-url URL --timestamp-root-cert PEM]
                     IMAGE
      notation.Sign: signs IMAGE (host/repo:tag or @digest) and pushes the signature. Like
      notation v1.3, --force-referrers-tag defaults to true (the referrers tag schema); false
      uses the referrers API when the registry has it (OCI-Subject), else the tag schema.
  notation-tool envelope [the sign flags] --out FILE IMAGE
      The same signing, but the envelope bytes go to FILE instead of the registry.
  notation-tool attach [registry flags] --envelope-file FILE [--media-type application/jose+json]
                       [--force-referrers-tag=true|false] [--subject-digest sha256:...] IMAGE
      Pushes FILE as it is as a signature of IMAGE (notation-go's Repository.PushSignature), e.g.
      a tampered envelope. --subject-digest names another subject than IMAGE's.
  notation-tool craft [registry flags] --key K --cert CHAIN [--header-json '{"crit": [...]}']
                      [--payload-json JSON] --out FILE IMAGE
      A JWS envelope notation-core-go would not make: notation's protected header with fields
      replaced (null: removed) by --header-json, signed with K, the chain as x5c.
  notation-tool verify [registry flags] (--config DIR | --trust-policy FILE --trust-store DIR)
                       [--max-signatures 100] [--user-metadata k=v]... IMAGE
      notation.Verify with notation-go's verifier, the trust policy and trust store loaded as the
      CLI loads them (DIR/trustpolicy.json, DIR/truststore/x509/...; --trust-store is the
      directory holding x509/). Prints JSON {verified, digest, error, level, results,
      signatures}; exit 0 verified, 1 refused.
  notation-tool tsa --addr 127.0.0.1:0 --pki DIR
      An RFC 3161 timestamp server signing with DIR's tsa-leaf; prints "listening on URL".

  registry flags: --plain-http (HTTP, for 127.0.0.1 registries), --ca-file PEM (TLS with a test
  CA), --username U --password P.
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	args := os.Args[2:]
	switch os.Args[1] {
	case "pki":
		err = runPKI(args)
	case "leaf":
		err = runLeaf(args)
	case "sign":
		err = runSign(args, false)
	case "envelope":
		err = runSign(args, true)
	case "craft":
		err = runCraft(args)
	case "attach":
		err = runAttach(args)
	case "verify":
		os.Exit(runVerify(args))
	case "tsa":
		err = runTSA(args)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return
	default:
		err = usageError{fmt.Sprintf("unknown command %q", os.Args[1])}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "notation-tool %s: %v\n", os.Args[1], err)
		var u usageError
		if errors.As(err, &u) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// usageError is a mistake in the command line (exit 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
