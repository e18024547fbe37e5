package main

// Signing as `notation sign` v1.3 does (cmd/notation/sign.go runSign, prepareSigningOpts):
// notation.Sign with notation-go's signer.GenericSigner made from a key and certificate chain
// file (signer.NewGenericSignerFromFiles, what the CLI's GetSigner calls for a local key), the
// repository of registry.go, the envelope media type, expiry and user metadata.
//
// Two knobs the CLI lacks, for fixtures notation-go's GenericSigner cannot make: the signing
// scheme notary.x509.signingAuthority and extra (critical) signed attributes. With either, the
// tool signs with signingSigner below: GenericSigner.Sign (signer/signer.go) with those two
// fields of notation-core-go's SignRequest set; the envelope is still made by notation-core-go.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/notaryproject/notation-core-go/revocation"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	corex509 "github.com/notaryproject/notation-core-go/x509"
	"github.com/notaryproject/notation-go"
	notationregistry "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"
	"github.com/notaryproject/tspclient-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The payload media type of notation-go's internal/envelope (MediaTypePayloadV1).
const payloadMediaType = "application/vnd.cncf.notary.payload.v1+json"

func envelopeMediaType(name string) (string, error) {
	switch name {
	case "jws":
		return jws.MediaTypeEnvelope, nil
	case "cose":
		return cose.MediaTypeEnvelope, nil
	}
	return "", usageError{fmt.Sprintf("--envelope %q: jws or cose", name)}
}

func runSign(args []string, toFile bool) error {
	name := "sign"
	if toFile {
		name = "envelope"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	var reg registryFlags
	reg.register(fs)
	keyPath := fs.String("key", "", "signing key (PEM, PKCS#8 or PKCS#1/SEC 1)")
	certPath := fs.String("cert", "", "certificate chain (PEM): signing certificate first, root last")
	envelopeName := fs.String("envelope", "jws", "signature envelope: jws (application/jose+json) or cose (application/cose)")
	expiry := fs.Duration("expiry", 0, "signature expiry from now (0: none)")
	scheme := fs.String("signing-scheme", string(signature.SigningSchemeX509), "notary.x509 or notary.x509.signingAuthority")
	forceTag := fs.Bool("force-referrers-tag", true, "store the signature with the referrers tag schema (notation v1.3's default); false: referrers API when supported")
	tsaURL := fs.String("timestamp-url", "", "RFC 3161 timestamping authority URL")
	tsaRoot := fs.String("timestamp-root-cert", "", "the TSA's root certificate (PEM), with --timestamp-url")
	out := fs.String("out", "", "envelope: write the envelope here")
	var metadata, critical multiFlag
	fs.Var(&metadata, "user-metadata", "KEY=VALUE added to the payload's annotations (repeatable)")
	fs.Var(&critical, "critical-header", "KEY=VALUE signed attribute marked critical (repeatable)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 || *keyPath == "" || *certPath == "" {
		return usageError{name + " needs --key, --cert and one IMAGE"}
	}
	if toFile != (*out != "") {
		return usageError{"--out goes with envelope (and only there)"}
	}
	if (*tsaURL == "") != (*tsaRoot == "") {
		return usageError{"--timestamp-url and --timestamp-root-cert go together"}
	}
	mediaType, err := envelopeMediaType(*envelopeName)
	if err != nil {
		return err
	}
	userMetadata, err := keyValues("user-metadata", metadata)
	if err != nil {
		return err
	}
	criticalAttrs, err := keyValues("critical-header", critical)
	if err != nil {
		return err
	}
	ctx := context.Background()

	var s notation.Signer
	if signature.SigningScheme(*scheme) == signature.SigningSchemeX509 && len(criticalAttrs) == 0 {
		s, err = signer.NewGenericSignerFromFiles(*keyPath, *certPath)
	} else {
		s, err = newSigningSigner(*keyPath, *certPath, signature.SigningScheme(*scheme), criticalAttrs)
	}
	if err != nil {
		return err
	}
	repo, ref, err := reg.notationRepository(fs.Arg(0), *forceTag)
	if err != nil {
		return err
	}
	opts := notation.SignOptions{
		SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: mediaType, ExpiryDuration: *expiry},
		UserMetadata:      userMetadata,
	}
	if *tsaURL != "" {
		if err := timestampOptions(&opts.SignerSignOptions, *tsaURL, *tsaRoot); err != nil {
			return err
		}
	}
	// As the CLI: the reference is resolved to its digest first, and the digest is signed.
	desc, err := repo.Resolve(ctx, ref.Reference)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", fs.Arg(0), err)
	}
	opts.ArtifactReference = desc.Digest.String()
	if toFile {
		repo = &envelopeCapture{Repository: repo, path: *out}
	}
	if _, err := notation.Sign(ctx, s, repo, opts); err != nil {
		if !isStaleIndexDeleteError(err) {
			return err
		}
		// As runSign: the signature is stored; only the old referrers index stays behind (a
		// registry that refuses deletes, e.g. docker-registry without storage.delete).
		fmt.Fprintln(os.Stderr, "Warning: Removal of outdated referrers index from remote registry failed. Garbage collection may be required.")
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{
		"reference": ref.Registry + "/" + ref.Repository + "@" + desc.Digest.String(),
		"digest":    desc.Digest.String(),
		"mediaType": mediaType,
	})
}

// isStaleIndexDeleteError is notation's referrersTagSchemaDeleteError check (cmd/notation/sign.go).
func isStaleIndexDeleteError(err error) bool {
	var pushFailed notation.ErrorPushSignatureFailed
	return errors.As(err, &pushFailed) && strings.Contains(err.Error(), "failed to delete dangling referrers index")
}

// timestampOptions is prepareSigningOpts' timestamping part.
func timestampOptions(opts *notation.SignerSignOptions, url, rootPath string) error {
	var err error
	opts.Timestamper, err = tspclient.NewHTTPTimestamper(&http.Client{Timeout: 15 * time.Second}, url)
	if err != nil {
		return fmt.Errorf("cannot get http timestamper for timestamping: %w", err)
	}
	roots, err := corex509.ReadCertificateFile(rootPath)
	if err != nil {
		return err
	}
	if len(roots) != 1 {
		return fmt.Errorf("%s: expecting a single root certificate, found %d", rootPath, len(roots))
	}
	opts.TSARootCAs = x509.NewCertPool()
	opts.TSARootCAs.AddCert(roots[0])
	opts.TSARevocationValidator, err = revocation.NewWithOptions(revocation.Options{CertChainPurpose: purpose.Timestamping})
	return err
}

// envelopeCapture writes the envelope notation.Sign would push to a file instead.
type envelopeCapture struct {
	notationregistry.Repository
	path string
}

func (c *envelopeCapture) PushSignature(_ context.Context, mediaType string, blob []byte, subject ocispec.Descriptor, _ map[string]string) (ocispec.Descriptor, ocispec.Descriptor, error) {
	if err := os.WriteFile(c.path, blob, 0o644); err != nil {
		return ocispec.Descriptor{}, ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: mediaType, Size: int64(len(blob))}, subject, nil
}

// signingSigner is notation-go's GenericSigner.Sign (signer/signer.go, v1.3.2) with a chosen
// signing scheme and extra signed attributes.
type signingSigner struct {
	local    signature.LocalSigner
	scheme   signature.SigningScheme
	extended []signature.Attribute
}

func newSigningSigner(keyPath, certPath string, scheme signature.SigningScheme, critical map[string]string) (*signingSigner, error) {
	if scheme != signature.SigningSchemeX509 && scheme != signature.SigningSchemeX509SigningAuthority {
		return nil, usageError{fmt.Sprintf("--signing-scheme %q: notary.x509 or notary.x509.signingAuthority", scheme)}
	}
	// As signer.NewGenericSignerFromFiles: the key must match the first certificate.
	pair, err := tls.LoadX509KeyPair(certPath, keyPath)
	if err != nil {
		return nil, err
	}
	certs := make([]*x509.Certificate, len(pair.Certificate))
	for i, der := range pair.Certificate {
		if certs[i], err = x509.ParseCertificate(der); err != nil {
			return nil, err
		}
	}
	local, err := signature.NewLocalSigner(certs, pair.PrivateKey)
	if err != nil {
		return nil, err
	}
	s := &signingSigner{local: local, scheme: scheme}
	for k, v := range critical {
		s.extended = append(s.extended, signature.Attribute{Key: k, Critical: true, Value: v})
	}
	return s, nil
}

func (s *signingSigner) Sign(ctx context.Context, desc ocispec.Descriptor, opts notation.SignerSignOptions) ([]byte, *signature.SignerInfo, error) {
	// envelope.SanitizeTargetArtifact keeps media type, digest, size and annotations.
	payload, err := json.Marshal(map[string]any{"targetArtifact": ocispec.Descriptor{
		MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, Annotations: desc.Annotations,
	}})
	if err != nil {
		return nil, nil, err
	}
	if (opts.Timestamper == nil) != (opts.TSARootCAs == nil) {
		return nil, nil, errors.New("timestamping: Timestamper and TSARootCAs go together")
	}
	req := &signature.SignRequest{
		Payload:                  signature.Payload{ContentType: payloadMediaType, Content: payload},
		Signer:                   s.local,
		SigningTime:              time.Now(),
		SigningScheme:            s.scheme,
		SigningAgent:             "notation-go/1.3.2",
		ExtendedSignedAttributes: s.extended,
		Timestamper:              opts.Timestamper,
		TSARootCAs:               opts.TSARootCAs,
		TSARevocationValidator:   opts.TSARevocationValidator,
	}
	if opts.ExpiryDuration != 0 {
		req.Expiry = req.SigningTime.Add(opts.ExpiryDuration)
	}
	env, err := signature.NewEnvelope(opts.SignatureMediaType)
	if err != nil {
		return nil, nil, err
	}
	sig, err := env.Sign(req.WithContext(ctx))
	if err != nil {
		return nil, nil, err
	}
	content, err := env.Verify()
	if err != nil {
		return nil, nil, fmt.Errorf("generated signature failed verification: %v", err)
	}
	return sig, &content.SignerInfo, nil
}
