package main

// The registry client, as notation v1.3's CLI makes it (cmd/notation/registry.go,
// getRemoteRepository): an oras-go remote.Repository wrapped by notation-go's
// registry.NewRepository; with forceReferrersTag the referrers capability is set to false so
// oras-go writes the referrers tag schema, otherwise oras-go uses the referrers API when the
// registry answers a manifest PUT with OCI-Subject and falls back to the tag schema when not.

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	notationregistry "github.com/notaryproject/notation-go/registry"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/retry"
)

type registryFlags struct {
	plainHTTP bool
	caFile    string
	username  string
	password  string
}

func (r *registryFlags) register(fs *flag.FlagSet) {
	fs.BoolVar(&r.plainHTTP, "plain-http", false, "talk plain HTTP to the registry (notation's --insecure-registry)")
	fs.StringVar(&r.caFile, "ca-file", "", "trust this CA (PEM) for the registry's TLS certificate")
	fs.StringVar(&r.username, "username", "", "registry user name")
	fs.StringVar(&r.password, "password", "", "registry password")
}

// repository returns the oras-go repository of reference (host/repo:tag or host/repo@digest)
// and the parsed reference.
func (r *registryFlags) repository(reference string) (*remote.Repository, registry.Reference, error) {
	ref, err := registry.ParseReference(reference)
	if err != nil {
		return nil, ref, usageError{fmt.Sprintf("%q: %v. Expecting <registry>/<repository>:<tag> or <registry>/<repository>@<digest>", reference, err)}
	}
	if ref.Reference == "" {
		return nil, ref, usageError{fmt.Sprintf("%q: no tag or digest", reference)}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	if r.caFile != "" {
		pem, err := os.ReadFile(r.caFile)
		if err != nil {
			return nil, ref, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, ref, fmt.Errorf("%s: no PEM certificates", r.caFile)
		}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	client := &auth.Client{
		Client: &http.Client{Transport: retry.NewTransport(transport), Timeout: 60 * time.Second},
		Cache:  auth.NewCache(),
	}
	client.SetUserAgent("notation-tool (trustgate tests)")
	if r.username != "" {
		client.Credential = auth.StaticCredential(ref.Host(), auth.Credential{Username: r.username, Password: r.password})
	}
	return &remote.Repository{Client: client, Reference: ref, PlainHTTP: r.plainHTTP}, ref, nil
}

// notationRepository is getRemoteRepository of notation's CLI.
func (r *registryFlags) notationRepository(reference string, forceReferrersTag bool) (notationregistry.Repository, registry.Reference, error) {
	repo, ref, err := r.repository(reference)
	if err != nil {
		return nil, ref, err
	}
	if forceReferrersTag {
		if err := repo.SetReferrersCapability(false); err != nil {
			return nil, ref, err
		}
	}
	return notationregistry.NewRepository(repo), ref, nil
}

// multiFlag collects a repeated flag.
type multiFlag []string

func (m *multiFlag) String() string     { return fmt.Sprint(*m) }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// keyValues turns k=v flags into a map, as notation's cmd.ParseFlagMap does.
func keyValues(flagName string, items []string) (map[string]string, error) {
	out := map[string]string{}
	for _, item := range items {
		k, v, ok := strings.Cut(item, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Sprintf("--%s %q: expecting KEY=VALUE", flagName, item)}
		}
		if _, dup := out[k]; dup {
			return nil, usageError{fmt.Sprintf("--%s: key %q given twice", flagName, k)}
		}
		out[k] = v
	}
	return out, nil
}
