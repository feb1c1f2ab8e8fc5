package app

import (
	"bytes"
	"compress/flate"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// fragmentKey starts a URL fragment that carries a whole state: #snap=<data>, where
// data is the encoded snapshot, deflated, in unpadded base64url. Such a link works on
// a static host with no server.
const fragmentKey = "snap="

// maxFragment is the longest link the Share button puts a state into (browsers
// accept far longer URLs, but chat tools and mail clients cut them).
const maxFragment = 60000

// maxInflated bounds what a fragment may expand to.
const maxInflated = 64 << 20

// encodeFragment returns the fragment (without '#') for an encoded snapshot, and
// whether it is short enough to share as a link.
func encodeFragment(data []byte) (string, bool) {
	var buf bytes.Buffer
	zw, _ := flate.NewWriter(&buf, flate.BestCompression)
	zw.Write(data)
	zw.Close()
	frag := fragmentKey + base64.RawURLEncoding.EncodeToString(buf.Bytes())
	return frag, len(frag) <= maxFragment
}

// decodeFragment returns the encoded snapshot a #snap= fragment carries.
func decodeFragment(frag string) ([]byte, error) {
	frag = strings.TrimPrefix(frag, "#")
	if !strings.HasPrefix(frag, fragmentKey) {
		return nil, errors.New("the link carries no state (no #snap=)")
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(frag, fragmentKey))
	if err != nil {
		return nil, fmt.Errorf("the link is damaged (%v): copy it again, whole", err)
	}
	data, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), maxInflated+1))
	if err != nil {
		return nil, fmt.Errorf("the link is damaged (%v): copy it again, whole", err)
	}
	if len(data) > maxInflated {
		return nil, errors.New("the state in the link is too large to open")
	}
	return data, nil
}
