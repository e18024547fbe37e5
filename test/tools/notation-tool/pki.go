package main

// The test PKI. Certificates meet the Notary Project's "Certificate Requirements"
// (notaryproject/specifications specs/signature-specification.md), as notation-core-go v1.3
// checks them (x509/codesigning_cert_validations.go, timestamp_cert_validations.go): CA
// certificates with critical basicConstraints CA=true and critical keyUsage keyCertSign; leaves
// with critical keyUsage digitalSignature only and EKU codeSigning (TSA leaves: timeStamping,
// critical); subjects with C, ST and O (trust-store-trust-policy.md, "Trusted Identities").

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Organisation of every "acme" certificate; trusted identities name it.
const (
	acmeSubject  = "C=US, ST=WA, L=Seattle, O=Acme Rockets, CN=%s"
	otherSubject = "C=US, ST=WA, L=Seattle, O=Other Org, CN=%s"
)

type certSpec struct {
	name     string
	issuer   string // "" = self-signed
	keyType  string // p256 | p384 | rsa3072
	subject  string
	ca       bool
	pathLen  int // CAs: -1 = none
	tsa      bool
	validFor time.Duration
	crlURL   string
}

// The PKI `pki` writes, in issuing order.
var pkiSpecs = []certSpec{
	{name: "root-ca", keyType: "rsa3072", subject: fmt.Sprintf(acmeSubject, "Acme Rockets Root CA"), ca: true, pathLen: -1},
	{name: "intermediate-ca", issuer: "root-ca", keyType: "p384", subject: fmt.Sprintf(acmeSubject, "Acme Rockets Intermediate CA"), ca: true, pathLen: 0},
	{name: "leaf-rsa3072", issuer: "intermediate-ca", keyType: "rsa3072", subject: fmt.Sprintf(acmeSubject, "acme-signer-rsa3072")},
	{name: "leaf-p256", issuer: "intermediate-ca", keyType: "p256", subject: fmt.Sprintf(acmeSubject, "acme-signer-p256")},
	{name: "leaf-p384", issuer: "intermediate-ca", keyType: "p384", subject: fmt.Sprintf(acmeSubject, "acme-signer-p384")},
	{name: "leaf-other-org", issuer: "intermediate-ca", keyType: "p256", subject: fmt.Sprintf(otherSubject, "other-signer")},
	// Revocation fixtures: a CRL distribution point nobody answers (the discard port on
	// loopback refuses connections), so notation-go finds the status "unknown".
	{name: "leaf-crl", issuer: "intermediate-ca", keyType: "p256", subject: fmt.Sprintf(acmeSubject, "acme-signer-crl"), crlURL: "http://127.0.0.1:9/intermediate.crl"},
	// Same subject as the acme leaves, but another CA: only the trust store tells them apart.
	{name: "unrelated-ca", keyType: "p256", subject: "C=US, ST=CA, L=Nowhere, O=Unrelated Org, CN=Unrelated Root CA", ca: true, pathLen: -1},
	{name: "unrelated-leaf", issuer: "unrelated-ca", keyType: "p256", subject: fmt.Sprintf(acmeSubject, "acme-signer-p256")},
	// notary.x509.signingAuthority: a self-signed signing certificate in a signingAuthority
	// store (truststore.ValidateCertificates admits self-signed non-CA certificates).
	{name: "self-signed-leaf", keyType: "p256", subject: fmt.Sprintf(acmeSubject, "acme-self-signed")},
	{name: "tsa-root", keyType: "p256", subject: "C=US, ST=WA, L=Seattle, O=Acme Time, CN=Acme Time Root CA", ca: true, pathLen: -1},
	{name: "tsa-leaf", issuer: "tsa-root", keyType: "p256", subject: "C=US, ST=WA, L=Seattle, O=Acme Time, CN=Acme TSA", tsa: true},
}

// Trust stores `pki` writes: DIR/truststore/x509/<type>/<name>/<cert>.pem.
var pkiStores = []struct{ storeType, name, cert string }{
	{"ca", "acme", "root-ca"},
	{"ca", "unrelated", "unrelated-ca"},
	{"ca", "self-signed", "self-signed-leaf"},
	{"signingAuthority", "acme", "root-ca"},
	{"signingAuthority", "self-signed", "self-signed-leaf"},
	{"tsa", "acme-tsa", "tsa-root"},
}

func runPKI(args []string) error {
	fs := flag.NewFlagSet("pki", flag.ContinueOnError)
	out := fs.String("out", "", "directory to write the PKI to (made if missing)")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *out == "" || fs.NArg() != 0 {
		return usageError{"pki needs --out DIR and no arguments"}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	for _, spec := range pkiSpecs {
		if spec.validFor == 0 {
			spec.validFor = 365 * 24 * time.Hour
		}
		if err := issue(*out, spec); err != nil {
			return fmt.Errorf("%s: %w", spec.name, err)
		}
	}
	for _, s := range pkiStores {
		dir := filepath.Join(*out, "truststore", "x509", s.storeType, s.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := copyFile(filepath.Join(*out, s.cert+".crt"), filepath.Join(dir, s.cert+".pem")); err != nil {
			return err
		}
	}
	return nil
}

func runLeaf(args []string) error {
	fs := flag.NewFlagSet("leaf", flag.ContinueOnError)
	dir := fs.String("pki", "", "the PKI directory (`pki --out`)")
	name := fs.String("name", "", "file name of the new leaf")
	issuer := fs.String("issuer", "intermediate-ca", "the issuing CA's name in --pki")
	keyType := fs.String("key-type", "p256", "p256 | p384 | rsa3072")
	subject := fs.String("subject", "", `subject DN (default "`+acmeSubject+`" with CN=--name)`)
	validFor := fs.Duration("valid-for", 365*24*time.Hour, "validity from now (a few seconds for an expired-certificate fixture)")
	crlURL := fs.String("crl-url", "", "a CRL distribution point URL")
	selfSigned := fs.Bool("self-signed", false, "self-signed instead of issued by --issuer")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *dir == "" || *name == "" || fs.NArg() != 0 || strings.ContainsAny(*name, `/\`) {
		return usageError{"leaf needs --pki DIR and --name NAME (a file name)"}
	}
	spec := certSpec{name: *name, issuer: *issuer, keyType: *keyType, subject: *subject, validFor: *validFor, crlURL: *crlURL}
	if *selfSigned {
		spec.issuer = ""
	}
	if spec.subject == "" {
		spec.subject = fmt.Sprintf(acmeSubject, *name)
	}
	return issue(*dir, spec)
}

// issue writes NAME.key (PKCS#8), NAME.crt and, for leaves, NAME.chain.pem (leaf … root).
func issue(dir string, spec certSpec) error {
	key, err := newKey(spec.keyType)
	if err != nil {
		return err
	}
	subject, err := parseDN(spec.subject)
	if err != nil {
		return err
	}
	now := time.Now()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(spec.validFor),
		BasicConstraintsValid: true,
	}
	if spec.validFor < time.Hour {
		// A short-lived leaf must be valid when it signs (notation-go refuses an expired
		// certificate) and expire soon after, so its validity starts just before now.
		tmpl.NotBefore = now.Add(-time.Minute)
	}
	switch {
	case spec.ca:
		tmpl.IsCA = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
		if spec.pathLen >= 0 {
			tmpl.MaxPathLen = spec.pathLen
			tmpl.MaxPathLenZero = spec.pathLen == 0
		}
	case spec.tsa:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		// RFC 3161 section 2.3: the TSA's EKU is timeStamping only, and critical; Go marks
		// the EKU extension non-critical, so it is written by hand.
		ext, err := criticalTimeStampingEKU()
		if err != nil {
			return err
		}
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, ext)
	default:
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	}
	if spec.crlURL != "" {
		tmpl.CRLDistributionPoints = []string{spec.crlURL}
	}
	parent, parentKey, chain := tmpl, crypto.Signer(key), []*x509.Certificate(nil)
	if spec.issuer != "" {
		parentKey, chain, err = loadIssuer(dir, spec.issuer)
		if err != nil {
			return fmt.Errorf("issuer %s: %w", spec.issuer, err)
		}
		parent = chain[0]
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		return err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, spec.name+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}), 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, spec.name+".crt"), certPEM(cert), 0o644); err != nil {
		return err
	}
	var chainPEM []byte
	for _, c := range append([]*x509.Certificate{cert}, chain...) {
		chainPEM = append(chainPEM, certPEM(c)...)
	}
	return os.WriteFile(filepath.Join(dir, spec.name+".chain.pem"), chainPEM, 0o644)
}

func newKey(keyType string) (crypto.Signer, error) {
	switch keyType {
	case "p256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "p384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "p521":
		return ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	case "rsa3072":
		return rsa.GenerateKey(rand.Reader, 3072)
	case "rsa2048":
		return rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, usageError{fmt.Sprintf("unknown key type %q (p256, p384, p521, rsa2048, rsa3072)", keyType)}
	}
}

// loadIssuer reads NAME.key and NAME.chain.pem (NAME's certificate first).
func loadIssuer(dir, name string) (crypto.Signer, []*x509.Certificate, error) {
	keyPEM, err := os.ReadFile(filepath.Join(dir, name+".key"))
	if err != nil {
		return nil, nil, err
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, nil, errors.New("no PEM key")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, err
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, nil, errors.New("not a signing key")
	}
	chain, err := readCerts(filepath.Join(dir, name+".chain.pem"))
	if err != nil {
		return nil, nil, err
	}
	return signer, chain, nil
}

func readCerts(path string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no PEM certificates", path)
	}
	return certs, nil
}

func certPEM(cert *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})
}

// parseDN reads "C=US, ST=WA, L=Seattle, O=Acme Rockets, CN=name" (no escaped commas).
func parseDN(dn string) (pkix.Name, error) {
	var name pkix.Name
	for _, part := range strings.Split(dn, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" {
			return name, usageError{fmt.Sprintf("subject %q: %q is not KEY=VALUE", dn, part)}
		}
		switch k {
		case "C":
			name.Country = append(name.Country, v)
		case "ST":
			name.Province = append(name.Province, v)
		case "L":
			name.Locality = append(name.Locality, v)
		case "O":
			name.Organization = append(name.Organization, v)
		case "OU":
			name.OrganizationalUnit = append(name.OrganizationalUnit, v)
		case "CN":
			name.CommonName = v
		default:
			return name, usageError{fmt.Sprintf("subject %q: unknown attribute %q", dn, k)}
		}
	}
	return name, nil
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}

func criticalTimeStampingEKU() (pkix.Extension, error) {
	value, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return pkix.Extension{}, err
	}
	return pkix.Extension{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: value}, nil
}
