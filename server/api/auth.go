package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strings"
)

// tokenPrefix starts every token, so that a leaked one is recognisable (secret
// scanners) and a wrong kind of string is refused early.
const tokenPrefix = "prf_"

// newToken returns a random token: the prefix and 32 random bytes (256 bits) in
// unpadded base64url.
func newToken() (token string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("api: crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	token = tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return token, hashToken(token)
}

// hashToken is the stored form of a token. Tokens carry 256 random bits, so a plain
// SHA-256 is enough: nobody can search the token space from the hash.
func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// newID returns a random identifier of n bytes in hex.
func newID(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("api: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b)
}

// bearer returns the token of an "Authorization: Bearer …" header, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}

// sameHash compares two token hashes in constant time.
func sameHash(a, b []byte) bool {
	return len(a) == sha256.Size && subtle.ConstantTimeCompare(a, b) == 1
}

// ShareID is the id of a snapshot in links: the first 128 bits, in hex, of
// HMAC-SHA256 keyed with the server's secret over the snapshot's bytes. The same
// bytes always get the same id on a server (and on every replica sharing its store),
// but nobody can compute or guess an id without the secret — not even someone who
// knows the content, so a link cannot be found by trying likely contents.
func ShareID(secret, data []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// validShareID reports whether id has the form of ShareID's result.
func validShareID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
