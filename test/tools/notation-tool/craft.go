package main

// Envelopes notation-core-go will not make, for attack fixtures: a JWS JSON envelope
// (notaryproject/specifications specs/signature-envelope-jws.md) whose protected header is
// notation's own (alg from the key, cty, crit, signing scheme, signing time) with fields
// replaced or removed by --header-json, signed for real with the key, so that only the header
// differs from what notation signs. E.g. a `crit` entry naming a header that is absent.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"hash"
	"math/big"
	"os"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func runCraft(args []string) error {
	fs := flag.NewFlagSet("craft", flag.ContinueOnError)
	var reg registryFlags
	reg.register(fs)
	keyPath := fs.String("key", "", "signing key (PEM)")
	certPath := fs.String("cert", "", "certificate chain (PEM), leaf first")
	headerJSON := fs.String("header-json", "{}", "JSON object merged into the protected header (null removes a field)")
	payloadJSON := fs.String("payload-json", "", "the payload as it is (default: notation's payload naming IMAGE)")
	out := fs.String("out", "", "write the envelope here")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 || *keyPath == "" || *certPath == "" || *out == "" {
		return usageError{"craft needs --key, --cert, --out and one IMAGE"}
	}
	pair, err := tls.LoadX509KeyPair(*certPath, *keyPath)
	if err != nil {
		return err
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return err
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return fmt.Errorf("%s: not a signing key", *keyPath)
	}
	alg, newHash, err := jwsAlgorithm(leaf)
	if err != nil {
		return err
	}
	header := map[string]any{
		"alg":                          alg,
		"cty":                          payloadMediaType,
		"crit":                         []string{"io.cncf.notary.signingScheme"},
		"io.cncf.notary.signingScheme": "notary.x509",
		"io.cncf.notary.signingTime":   time.Now().UTC().Truncate(time.Second).Format(time.RFC3339),
	}
	var overrides map[string]any
	if err := json.Unmarshal([]byte(*headerJSON), &overrides); err != nil {
		return usageError{fmt.Sprintf("--header-json: %v", err)}
	}
	for k, v := range overrides {
		if v == nil {
			delete(header, k)
		} else {
			header[k] = v
		}
	}
	payload := []byte(*payloadJSON)
	if *payloadJSON == "" {
		repo, ref, err := reg.notationRepository(fs.Arg(0), true)
		if err != nil {
			return err
		}
		desc, err := repo.Resolve(context.Background(), ref.Reference)
		if err != nil {
			return fmt.Errorf("resolve %s: %w", fs.Arg(0), err)
		}
		payload, err = json.Marshal(map[string]any{"targetArtifact": ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}})
		if err != nil {
			return err
		}
	}
	protected, err := json.Marshal(header)
	if err != nil {
		return err
	}
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString(protected) + "." + b64.EncodeToString(payload)
	sig, err := jwsSign(key, newHash, []byte(input))
	if err != nil {
		return err
	}
	envelope, err := json.Marshal(map[string]any{
		"payload":   b64.EncodeToString(payload),
		"protected": b64.EncodeToString(protected),
		"header":    map[string]any{"x5c": pair.Certificate, "io.cncf.notary.signingAgent": "notation-go/1.3.2"},
		"signature": b64.EncodeToString(sig),
	})
	if err != nil {
		return err
	}
	return os.WriteFile(*out, envelope, 0o644)
}

// jwsAlgorithm: the spec's "Signature Algorithm Requirements", from the certificate's key.
func jwsAlgorithm(cert *x509.Certificate) (string, func() hash.Hash, error) {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		switch bits := pub.N.BitLen(); {
		case bits <= 2048:
			return "PS256", sha256.New, nil
		case bits <= 3072:
			return "PS384", sha512.New384, nil
		default:
			return "PS512", sha512.New, nil
		}
	case *ecdsa.PublicKey:
		switch pub.Curve.Params().BitSize {
		case 256:
			return "ES256", sha256.New, nil
		case 384:
			return "ES384", sha512.New384, nil
		case 521:
			return "ES512", sha512.New, nil
		}
	}
	return "", nil, fmt.Errorf("no JWS algorithm for the key of %q", cert.Subject)
}

// jwsSign: RSASSA-PSS with the salt as long as the hash, or ECDSA as r||s (RFC 7518, 3.4).
func jwsSign(key crypto.Signer, newHash func() hash.Hash, input []byte) ([]byte, error) {
	h := newHash()
	h.Write(input)
	digest := h.Sum(nil)
	var id crypto.Hash
	switch h.Size() {
	case 32:
		id = crypto.SHA256
	case 48:
		id = crypto.SHA384
	default:
		id = crypto.SHA512
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return rsa.SignPSS(rand.Reader, k, id, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return nil, err
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		return append(fixed(r, size), fixed(s, size)...), nil
	}
	return nil, fmt.Errorf("unsupported key %T", key)
}

func fixed(n *big.Int, size int) []byte {
	out := make([]byte, size)
	return n.FillBytes(out)
}
