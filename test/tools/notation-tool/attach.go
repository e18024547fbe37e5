package main

// Attaching envelope bytes as they are: notation-go's Repository.PushSignature (what
// notation.Sign calls after signing, registry/repository.go): the envelope as a blob of the
// given media type, and an OCI image manifest whose config is the empty JSON blob with media
// type application/vnd.cncf.notary.signature (no artifactType field), that blob as its one layer
// and the image as its subject, stored by oras-go as a referrer or with the referrers tag schema.

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func runAttach(args []string) error {
	fs := flag.NewFlagSet("attach", flag.ContinueOnError)
	var reg registryFlags
	reg.register(fs)
	file := fs.String("envelope-file", "", "the envelope bytes to attach")
	mediaType := fs.String("media-type", jws.MediaTypeEnvelope, "the envelope blob's media type")
	forceTag := fs.Bool("force-referrers-tag", true, "referrers tag schema (true) or referrers API when supported (false)")
	subjectDigest := fs.String("subject-digest", "", "attach to this manifest digest of the repository instead of IMAGE's")
	var annotations multiFlag
	fs.Var(&annotations, "annotation", "KEY=VALUE manifest annotation (repeatable)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if fs.NArg() != 1 || *file == "" {
		return usageError{"attach needs --envelope-file FILE and one IMAGE"}
	}
	blob, err := os.ReadFile(*file)
	if err != nil {
		return err
	}
	manifestAnnotations, err := keyValues("annotation", annotations)
	if err != nil {
		return err
	}
	ctx := context.Background()
	repo, ref, err := reg.notationRepository(fs.Arg(0), *forceTag)
	if err != nil {
		return err
	}
	target := ref.Reference
	if *subjectDigest != "" {
		if _, err := digest.Parse(*subjectDigest); err != nil {
			return usageError{fmt.Sprintf("--subject-digest: %v", err)}
		}
		target = *subjectDigest
	}
	subject, err := repo.Resolve(ctx, target)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", target, err)
	}
	blobDesc, manifestDesc, err := repo.PushSignature(ctx, *mediaType, blob, subject, manifestAnnotations)
	if err != nil && !isStaleIndexDeleteError(notation.ErrorPushSignatureFailed{Msg: err.Error()}) {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]ocispec.Descriptor{"subject": subject, "blob": blobDesc, "manifest": manifestDesc})
}
