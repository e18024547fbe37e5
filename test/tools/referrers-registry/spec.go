package main

// What go-containerregistry v0.22.1's pkg/registry does not do as the OCI distribution spec
// (v1.1, spec.md) says, and what this layer does instead:
//
//   - "Pushing Manifests with Subject": a registry that supports the referrers API MUST answer a
//     manifest PUT that has a `subject` with `OCI-Subject: <subject digest>`. pkg/registry never
//     sets it, so a spec-following client (oras, notation) also writes the referrers tag schema.
//     Here: set on every 201 to a PUT with a subject.
//   - "Listing Referrers": each descriptor's `artifactType` MUST be the manifest's `artifactType`,
//     else (image manifests) the config media type, else (indexes) omitted. pkg/registry always
//     takes the config media type (for cosign's bundles that is application/vnd.oci.empty.v1+json
//     instead of the bundle media type). Here: the spec's rule.
//   - The registry "MUST NOT return a 404" to a referrers request; pkg/registry answers 404
//     NAME_UNKNOWN for a repository it has not seen. Here: an empty index.
//   - `?artifactType=` filtering (SHOULD) with `OCI-Filters-Applied: artifactType`: not in
//     pkg/registry (a TODO there). Here: exact match on the artifactType, header set.
//   - Pagination: a `Link: <...>; rel="next"` header (RFC 5988) when the list is cut. Here: with
//     -referrers-page-size N, pages of N descriptors ordered by digest; the next link carries
//     `last=<digest>` (opaque to clients: they follow the Link as given).
//   - A PUT by digest whose body does not hash to that digest is stored by pkg/registry under the
//     digest it was given. Here: 400 DIGEST_INVALID ("Pushing Manifests": the digest of the
//     reference MUST match). A manifest over -max-manifest-bytes: 413.
//
// Everything else (blobs, tags, manifests GET/HEAD, catalog) is pkg/registry as it is.

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
)

const (
	ociIndex    = "application/vnd.oci.image.index.v1+json"
	dockerIndex = "application/vnd.docker.distribution.manifest.list.v2+json"
)

// From the spec's "Pulling manifests" section: <name> and <digest> grammars.
var (
	nameRE   = regexp.MustCompile(`^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$`)
	digestRE = regexp.MustCompile(`^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$`)
)

type specOptions struct {
	pageSize         int
	maxManifestBytes int64
	maxReferrers     int
}

type descriptor struct {
	MediaType    string            `json:"mediaType"`
	Digest       string            `json:"digest"`
	Size         int64             `json:"size"`
	ArtifactType string            `json:"artifactType,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
}

// The fields of an image manifest or index that decide its referrer descriptor.
type manifestFields struct {
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	Config       *struct {
		MediaType string `json:"mediaType"`
	} `json:"config"`
	Subject *struct {
		Digest string `json:"digest"`
	} `json:"subject"`
	Annotations map[string]string `json:"annotations"`
}

type specLayer struct {
	inner http.Handler
	opts  specOptions

	mu sync.RWMutex
	// repository -> subject digest -> referrer digest -> descriptor
	referrers map[string]map[string]map[string]descriptor
	count     int
}

func newSpecLayer(inner http.Handler, opts specOptions) *specLayer {
	return &specLayer{inner: inner, opts: opts, referrers: map[string]map[string]map[string]descriptor{}}
}

// route splits /v2/<name>/<kind>/<ref>; ok is false for every other path.
func route(path string) (name, kind, ref string, ok bool) {
	rest, found := strings.CutPrefix(path, "/v2/")
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 {
		return "", "", "", false
	}
	n := len(parts)
	return strings.Join(parts[:n-2], "/"), parts[n-2], parts[n-1], true
}

func (s *specLayer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name, kind, ref, ok := route(r.URL.Path)
	switch {
	case ok && kind == "referrers":
		s.listReferrers(w, r, name, ref)
	case ok && kind == "manifests" && r.Method == http.MethodPut:
		s.putManifest(w, r, name, ref)
	case ok && kind == "manifests" && r.Method == http.MethodDelete:
		rec := &statusWriter{ResponseWriter: w}
		s.inner.ServeHTTP(rec, r)
		if rec.status == http.StatusAccepted && digestRE.MatchString(ref) {
			s.forget(name, ref)
		}
	default:
		s.inner.ServeHTTP(w, r)
	}
}

func writeError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{{"code": code, "message": message}}})
}

func (s *specLayer) putManifest(w http.ResponseWriter, r *http.Request, name, ref string) {
	body, err := io.ReadAll(io.LimitReader(r.Body, s.opts.maxManifestBytes+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "MANIFEST_INVALID", "reading the manifest: "+err.Error())
		return
	}
	if int64(len(body)) > s.opts.maxManifestBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "SIZE_INVALID", fmt.Sprintf("manifest over %d bytes", s.opts.maxManifestBytes))
		return
	}
	sum := sha256.Sum256(body)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	if strings.Contains(ref, ":") && ref != digest {
		writeError(w, http.StatusBadRequest, "DIGEST_INVALID", fmt.Sprintf("manifest digest is %s, not %s", digest, ref))
		return
	}
	var fields manifestFields
	if err := json.Unmarshal(body, &fields); err != nil {
		writeError(w, http.StatusBadRequest, "MANIFEST_INVALID", "manifest is not JSON: "+err.Error())
		return
	}
	subject := ""
	if fields.Subject != nil {
		if !digestRE.MatchString(fields.Subject.Digest) {
			writeError(w, http.StatusBadRequest, "MANIFEST_INVALID", "subject.digest is not a digest")
			return
		}
		subject = fields.Subject.Digest
		if s.full(name, subject, digest) {
			writeError(w, http.StatusRequestEntityTooLarge, "DENIED", fmt.Sprintf("referrers index holds %d entries already", s.opts.maxReferrers))
			return
		}
	}

	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	rec := &statusWriter{ResponseWriter: w, subject: subject}
	s.inner.ServeHTTP(rec, r)
	if subject == "" || rec.status != http.StatusCreated {
		return
	}
	mediaType := fields.MediaType
	if mediaType == "" {
		mediaType = r.Header.Get("Content-Type")
	}
	desc := descriptor{MediaType: mediaType, Digest: digest, Size: int64(len(body)), Annotations: fields.Annotations}
	switch {
	case fields.ArtifactType != "":
		desc.ArtifactType = fields.ArtifactType
	case mediaType != ociIndex && mediaType != dockerIndex && fields.Config != nil:
		desc.ArtifactType = fields.Config.MediaType
	}
	s.remember(name, subject, desc)
}

func (s *specLayer) full(name, subject, digest string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, known := s.referrers[name][subject][digest]; known {
		return false
	}
	return s.count >= s.opts.maxReferrers
}

func (s *specLayer) remember(name, subject string, desc descriptor) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bySubject := s.referrers[name]
	if bySubject == nil {
		bySubject = map[string]map[string]descriptor{}
		s.referrers[name] = bySubject
	}
	list := bySubject[subject]
	if list == nil {
		list = map[string]descriptor{}
		bySubject[subject] = list
	}
	if _, known := list[desc.Digest]; !known {
		s.count++
	}
	list[desc.Digest] = desc
}

func (s *specLayer) forget(name, digest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, list := range s.referrers[name] {
		if _, known := list[digest]; known {
			delete(list, digest)
			s.count--
		}
	}
}

func (s *specLayer) listReferrers(w http.ResponseWriter, r *http.Request, name, subject string) {
	if r.Method != http.MethodGet {
		writeError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "the referrers API answers GET")
		return
	}
	if !nameRE.MatchString(name) {
		writeError(w, http.StatusBadRequest, "NAME_INVALID", "invalid repository name")
		return
	}
	if !digestRE.MatchString(subject) {
		writeError(w, http.StatusBadRequest, "DIGEST_INVALID", "invalid digest")
		return
	}
	query := r.URL.Query()
	artifactType := query.Get("artifactType")
	last := query.Get("last")

	s.mu.RLock()
	all := make([]descriptor, 0, len(s.referrers[name][subject]))
	for _, d := range s.referrers[name][subject] {
		if artifactType != "" && d.ArtifactType != artifactType {
			continue
		}
		if last != "" && d.Digest <= last {
			continue
		}
		all = append(all, d)
	}
	s.mu.RUnlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Digest < all[j].Digest })

	if s.opts.pageSize > 0 && len(all) > s.opts.pageSize {
		all = all[:s.opts.pageSize]
		next := url.Values{"last": {all[len(all)-1].Digest}}
		if artifactType != "" {
			next.Set("artifactType", artifactType)
		}
		w.Header().Set("Link", fmt.Sprintf(`</v2/%s/referrers/%s?%s>; rel="next"`, name, subject, next.Encode()))
	}
	if artifactType != "" {
		w.Header().Set("OCI-Filters-Applied", "artifactType")
	}
	body, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": ociIndex, "manifests": all})
	w.Header().Set("Content-Type", ociIndex)
	w.Header().Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// statusWriter records the status pkg/registry answers and, for a manifest with a subject, adds
// OCI-Subject to a 201 before the header goes out.
type statusWriter struct {
	http.ResponseWriter
	subject string
	status  int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	if code == http.StatusCreated && w.subject != "" {
		w.Header().Set("OCI-Subject", w.subject)
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}
