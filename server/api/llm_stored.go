package api

import (
	"container/list"
	"context"
	"errors"
	"net/http"
	"sync"

	"prefer/core/lm"
	"prefer/core/snapshot"
	"prefer/server/store"
)

// modelCache keeps the language models of stored snapshots that were asked for,
// at most size of them (least recently used dropped). A model is named by its
// snapshot's share id and, when the snapshot holds several, its name:
// "SHAREID/NAME"; "SHAREID" alone is the snapshot's last model of family lm.
type modelCache struct {
	a    *API
	size int

	mu    sync.Mutex
	order *list.List // of *cachedModel, most recent first
	byKey map[string]*list.Element
}

type cachedModel struct {
	key   string
	model *LMModel
}

func newModelCache(a *API, size int) *modelCache {
	return &modelCache{a: a, size: size, order: list.New(), byKey: map[string]*list.Element{}}
}

func (c *modelCache) get(ctx context.Context, id, name string) (Model, error) {
	key := id + "/" + name
	c.mu.Lock()
	if e, ok := c.byKey[key]; ok {
		c.order.MoveToFront(e)
		m := e.Value.(*cachedModel).model
		c.mu.Unlock()
		return m, nil
	}
	c.mu.Unlock()

	notFound := func(format string, args ...any) error {
		return oaiErrorf(http.StatusNotFound, "invalid_request_error", "model_not_found", "model", format, args...)
	}
	snap, err := c.a.store.Snapshot(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound("no snapshot has this id on this server")
	}
	if err != nil {
		return nil, err
	}
	// Decoding takes a few times the snapshot's size: share the uploads' decode
	// slots (a busy server answers 503 with Retry-After after SlotWait).
	release, err := c.a.acquire(ctx, c.a.uploads, "snapshot decodes")
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			e := oaiErrorf(ae.status, "service_unavailable", "busy", "", "%s", ae.body.Message)
			e.retryAfter = ae.retryAfter
			return nil, e
		}
		return nil, err
	}
	s, err := snapshot.Unmarshal(snap.Data)
	release()
	if err != nil {
		return nil, notFound("the snapshot cannot be read: %v", err)
	}
	var sm *snapshot.Model
	for i := range s.Models {
		m := &s.Models[i]
		if m.Family == lm.Family && (name == "" || m.Name == name) {
			sm = m
		}
	}
	if sm == nil {
		if name == "" {
			return nil, notFound("the snapshot holds no language model (family %q)", lm.Family)
		}
		return nil, notFound("the snapshot has no language model called %q", name)
	}
	l, err := lm.FromSnapshot(sm)
	if err != nil {
		return nil, notFound("the snapshot's model cannot be used: %v", err)
	}
	m := NewLMModel(l)
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byKey[key]; ok { // loaded meanwhile by another request
		return e.Value.(*cachedModel).model, nil
	}
	c.byKey[key] = c.order.PushFront(&cachedModel{key: key, model: m})
	for c.order.Len() > c.size {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.byKey, last.Value.(*cachedModel).key)
	}
	return m, nil
}
