package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"

	"prefer/core/snapshot"
	"prefer/core/wire"
	"prefer/server/store"
)

// snapshotTypes are the content types accepted for a snapshot upload.
var snapshotTypes = map[string]bool{
	wire.ContentTypeMsgpack:    true,
	"application/x-msgpack":    true,
	"application/vnd.msgpack":  true,
	"application/octet-stream": true,
}

// postSnapshot stores a snapshot: POST /api/v1/snapshots.
func (a *API) postSnapshot(w http.ResponseWriter, r *http.Request) error {
	if a.cfg.PrivateUploads {
		if err := a.checkAdmin(r, "uploading a snapshot"); err != nil {
			return err
		}
	}
	if ct := r.Header.Get("Content-Type"); !snapshotTypes[wire.MediaType(ct)] {
		return errorf(http.StatusUnsupportedMediaType, codeContentType,
			"a snapshot is sent as %s, not %q", wire.ContentTypeMsgpack, ct)
	}
	if r.ContentLength > a.cfg.MaxSnapshotBytes {
		return errorf(http.StatusRequestEntityTooLarge, codeTooLarge,
			"the snapshot is %d bytes; this server takes at most %d", r.ContentLength, a.cfg.MaxSnapshotBytes)
	}
	// Bound the memory of bodies in flight, and read the body under a deadline that
	// a client sending at MinUploadRate meets: a slow client holds a body slot (one of
	// MaxUploadBodies) for a bounded time, and never a decode slot.
	release, err := a.acquire(r.Context(), a.bodies, "uploads")
	if err != nil {
		return err
	}
	defer release()
	data, err := a.readBodyPaced(w, r, a.cfg.MaxSnapshotBytes, "snapshot")
	if err != nil {
		return err
	}
	res, created, err := a.StoreSnapshot(r.Context(), data, a.baseURL(r))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/snapshots/"+res.ID)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, res)
	return nil
}

// StoreSnapshot verifies data (it must decode as a snapshot, within the decoder's
// bounds) and stores it under its share id, which it computes — an id is never taken
// from a client. created is false when the same bytes were stored before. base
// prefixes the link in the answer. The server calls it to store the demo snapshot.
func (a *API) StoreSnapshot(ctx context.Context, data []byte, base string) (res wire.SnapshotCreated, created bool, err error) {
	// Bound the memory of decodes: wait for one of MaxUploads slots.
	release, err := a.acquire(ctx, a.uploads, "uploads")
	if err != nil {
		return res, false, err
	}
	defer release()
	s, err := snapshot.UnmarshalWith(data, snapshot.Options{BudgetFactor: UploadBudgetFactor})
	if err != nil {
		return res, false, errorf(http.StatusBadRequest, codeBadSnapshot,
			"the body is not a snapshot this server can read: %v", err)
	}
	if ps, total := snapshot.CheckCount(s); total > 0 {
		msg := fmt.Sprintf("the snapshot is not sound (%d problems; 'prefer verify' lists them)", total)
		for i, p := range ps[:min(len(ps), 3)] {
			msg += fmt.Sprintf("; %d: %s", i+1, p)
		}
		return res, false, errorf(http.StatusBadRequest, codeBadSnapshot, "%s", msg)
	}
	res = wire.SnapshotCreated{
		ID:        ShareID(a.secret, data),
		ContentID: snapshot.ID(data),
		Size:      int64(len(data)),
	}
	res.URL = base + "/s/" + res.ID
	created, err = a.store.PutSnapshot(ctx, store.Snapshot{
		ID: res.ID, ContentID: res.ContentID, Data: data, Created: a.cfg.Now().UnixMilli(),
	})
	return res, created, err
}

// getSnapshot serves a snapshot's bytes: GET /api/v1/snapshots/{id}. They never
// change, so they are cached for a year and revalidated by ETag (the content id).
func (a *API) getSnapshot(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if !validShareID(id) {
		return errorf(http.StatusBadRequest, codeBadRequest,
			"malformed snapshot id: an id is 32 lower-case hex digits, as in the link /s/{id}")
	}
	snap, err := a.store.Snapshot(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return errorf(http.StatusNotFound, codeNotFound, "no snapshot has this id on this server")
	}
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", wire.ContentTypeMsgpack)
	h.Set("ETag", `"`+snap.ContentID+`"`)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	http.ServeContent(w, r, "", zeroTime, bytes.NewReader(snap.Data))
	return nil
}
