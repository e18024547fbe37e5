package main

// The reference verdict: `notation verify` v1.3 (cmd/notation/verify.go runVerify, getVerifier):
// the trust policy (trustpolicy.LoadDocument) and the x509 trust store
// (truststore.NewX509TrustStore(dir.ConfigFS())) read from a notation configuration directory,
// revocation validators for code signing and timestamping (internal/revocation: OCSP 2 s, CRL
// 5 s, here without the CLI's CRL file cache), verifier.NewWithOptions, the repository of
// registry.go with the referrers API allowed (falling back to the tag schema), and
// notation.Verify with at most --max-signatures signatures (the CLI's default 100).

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/notaryproject/notation-core-go/revocation"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	notationregistry "github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

type resultJSON struct {
	Type   string  `json:"type"`
	Action string  `json:"action"`
	Error  *string `json:"error"`
}

type signatureJSON struct {
	// Digest of the signature manifest.
	Digest    string       `json:"digest"`
	MediaType string       `json:"mediaType"`
	Error     *string      `json:"error"`
	Results   []resultJSON `json:"results"`
}

type verdictJSON struct {
	Verified bool   `json:"verified"`
	Digest   string `json:"digest"`
	// Error is notation.Verify's error (for several signatures, each one's joined by newlines).
	Error *string `json:"error"`
	Level string  `json:"level"`
	// Results of the signature that verified, else of the first one examined.
	Results []resultJSON `json:"results"`
	// Every signature examined, in the order notation-go examined them.
	Signatures []signatureJSON `json:"signatures"`
}

func runVerify(args []string) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	var reg registryFlags
	reg.register(fs)
	configDir := fs.String("config", "", "notation configuration directory: trustpolicy.json and truststore/x509/...")
	policyFile := fs.String("trust-policy", "", "trustpolicy.json (instead of --config)")
	storeDir := fs.String("trust-store", "", "trust store directory holding x509/ (instead of --config)")
	maxSignatures := fs.Int("max-signatures", 100, "most signatures examined (notation verify --max-signatures)")
	var metadata multiFlag
	fs.Var(&metadata, "user-metadata", "KEY=VALUE the signature's payload must carry (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(os.Stderr, "notation-tool verify: %v\n", err)
		return code
	}
	if fs.NArg() != 1 || (*configDir == "") == (*policyFile == "" && *storeDir == "") || (*policyFile == "") != (*storeDir == "") {
		return fail(2, fmt.Errorf("verify needs one IMAGE and either --config DIR or --trust-policy FILE with --trust-store DIR"))
	}
	userMetadata, err := keyValues("user-metadata", metadata)
	if err != nil {
		return fail(2, err)
	}
	if *configDir == "" {
		tmp, err := configFrom(*policyFile, *storeDir)
		if err != nil {
			return fail(2, err)
		}
		defer os.RemoveAll(tmp)
		*configDir = tmp
	}
	abs, err := filepath.Abs(*configDir)
	if err != nil {
		return fail(2, err)
	}
	dir.UserConfigDir = abs

	verdict, err := verify(context.Background(), &reg, fs.Arg(0), *maxSignatures, userMetadata)
	if err != nil {
		return fail(2, err)
	}
	if err := json.NewEncoder(os.Stdout).Encode(verdict); err != nil {
		return fail(2, err)
	}
	if verdict.Verified {
		return 0
	}
	return 1
}

// configFrom makes a notation configuration directory of a trust policy file and a trust store
// directory: a copy of the policy, and truststore a symbolic link to the store (notation-go
// refuses symbolic links only as the policy file, a named store and a certificate file).
func configFrom(policyFile, storeDir string) (string, error) {
	tmp, err := os.MkdirTemp("", "notation-tool-config-")
	if err != nil {
		return "", err
	}
	policy, err := os.ReadFile(policyFile)
	if err == nil {
		err = os.WriteFile(filepath.Join(tmp, dir.PathTrustPolicy), policy, 0o600)
	}
	if err == nil {
		var store string
		if store, err = filepath.Abs(storeDir); err == nil {
			err = os.Symlink(store, filepath.Join(tmp, dir.TrustStoreDir))
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmp, nil
}

// verify returns notation-go's verdict; an error only for a mistake in the tool's own setup.
func verify(ctx context.Context, reg *registryFlags, reference string, maxSignatures int, userMetadata map[string]string) (*verdictJSON, error) {
	verdict := &verdictJSON{Results: []resultJSON{}, Signatures: []signatureJSON{}}
	refuse := func(err error) (*verdictJSON, error) {
		msg := err.Error()
		verdict.Error = &msg
		return verdict, nil
	}
	codeSigning, err := revocation.NewWithOptions(revocation.Options{CertChainPurpose: purpose.CodeSigning})
	if err != nil {
		return nil, err
	}
	timestamping, err := revocation.NewWithOptions(revocation.Options{CertChainPurpose: purpose.Timestamping})
	if err != nil {
		return nil, err
	}
	// A policy or store notation refuses is a refusal too: trustgate's tests compare with it.
	policy, err := trustpolicy.LoadDocument()
	if err != nil {
		return refuse(err)
	}
	store := truststore.NewX509TrustStore(dir.ConfigFS())
	inner, err := verifier.NewWithOptions(policy, store, nil, verifier.VerifierOptions{
		RevocationCodeSigningValidator:  codeSigning,
		RevocationTimestampingValidator: timestamping,
	})
	if err != nil {
		return refuse(err)
	}
	repo, ref, err := reg.notationRepository(reference, false)
	if err != nil {
		return nil, err
	}
	// As the CLI (resolveReferenceWithWarning): a tag is resolved first and the digest verified.
	desc, err := repo.Resolve(ctx, ref.Reference)
	if err != nil {
		return refuse(fmt.Errorf("resolve %s: %w", reference, err))
	}
	verdict.Digest = desc.Digest.String()
	recorder := &outcomeRecorder{inner: inner}
	_, outcomes, err := notation.Verify(ctx, recorder, &manifestRecorder{Repository: repo, recorder: recorder}, notation.VerifyOptions{
		ArtifactReference:    ref.Registry + "/" + ref.Repository + "@" + desc.Digest.String(),
		MaxSignatureAttempts: maxSignatures,
		UserMetadata:         userMetadata,
	})
	for _, o := range recorder.outcomes {
		verdict.Signatures = append(verdict.Signatures, signatureOf(o))
	}
	if len(verdict.Signatures) > 0 {
		verdict.Results = verdict.Signatures[0].Results
	}
	if err == nil && len(outcomes) > 0 {
		verdict.Verified = true
		verdict.Results = resultsOf(outcomes[0])
		if outcomes[0].VerificationLevel != nil {
			verdict.Level = outcomes[0].VerificationLevel.Name
		}
		return verdict, nil
	}
	if err == nil {
		err = fmt.Errorf("signature verification failed for all the signatures associated with %s", reference)
	}
	if len(recorder.outcomes) > 0 && recorder.outcomes[0].outcome != nil && recorder.outcomes[0].outcome.VerificationLevel != nil {
		verdict.Level = recorder.outcomes[0].outcome.VerificationLevel.Name
	}
	return refuse(err)
}

type recorded struct {
	digest    string
	mediaType string
	outcome   *notation.VerificationOutcome
	err       error
}

// outcomeRecorder is notation-go's verifier, keeping each signature's outcome (notation.Verify
// returns only the one that verified).
type outcomeRecorder struct {
	inner    notation.Verifier
	outcomes []recorded
	// The signature manifest notation.Verify fetched last: it verifies each one right after
	// fetching its envelope.
	current string
}

// manifestRecorder tells outcomeRecorder which signature manifest is being verified.
type manifestRecorder struct {
	notationregistry.Repository
	recorder *outcomeRecorder
}

func (m *manifestRecorder) FetchSignatureBlob(ctx context.Context, desc ocispec.Descriptor) ([]byte, ocispec.Descriptor, error) {
	m.recorder.current = desc.Digest.String()
	return m.Repository.FetchSignatureBlob(ctx, desc)
}

func (r *outcomeRecorder) Verify(ctx context.Context, desc ocispec.Descriptor, sig []byte, opts notation.VerifierVerifyOptions) (*notation.VerificationOutcome, error) {
	outcome, err := r.inner.Verify(ctx, desc, sig, opts)
	if len(r.outcomes) < 1000 {
		r.outcomes = append(r.outcomes, recorded{digest: r.current, mediaType: opts.SignatureMediaType, outcome: outcome, err: err})
	}
	return outcome, err
}

// SkipVerify keeps notation.Verify's check for the `skip` level (verifySkipper).
func (r *outcomeRecorder) SkipVerify(ctx context.Context, opts notation.VerifierVerifyOptions) (bool, *trustpolicy.VerificationLevel, error) {
	type skipper interface {
		SkipVerify(context.Context, notation.VerifierVerifyOptions) (bool, *trustpolicy.VerificationLevel, error)
	}
	if s, ok := r.inner.(skipper); ok {
		return s.SkipVerify(ctx, opts)
	}
	return false, nil, nil
}

func signatureOf(r recorded) signatureJSON {
	s := signatureJSON{Digest: r.digest, MediaType: r.mediaType, Results: resultsOf(r.outcome)}
	if r.err != nil {
		msg := r.err.Error()
		s.Error = &msg
	}
	return s
}

func resultsOf(o *notation.VerificationOutcome) []resultJSON {
	results := []resultJSON{}
	if o == nil {
		return results
	}
	for _, r := range o.VerificationResults {
		j := resultJSON{Type: string(r.Type), Action: string(r.Action)}
		if r.Error != nil {
			msg := r.Error.Error()
			j.Error = &msg
		}
		results = append(results, j)
	}
	return results
}
