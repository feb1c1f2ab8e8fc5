package lm

import (
	"testing"

	"prefer/core/snapshot"
)

// FuzzFromSnapshot feeds arbitrary bytes through the snapshot decoder and, when they
// decode, every model through FromSnapshot and HeadFromSnapshot: a malformed model
// must give an error, never a panic.
func FuzzFromSnapshot(f *testing.F) {
	l := tinyLM(f, 1)
	s := &snapshot.Snapshot{Models: []snapshot.Model{l.ToSnapshot("m", nil), (&RewardHead{LM: l}).ToSnapshot("h", nil)}}
	data, err := snapshot.Marshal(s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := snapshot.Unmarshal(data)
		if err != nil {
			return
		}
		for i := range s.Models {
			if l, err := FromSnapshot(&s.Models[i]); err == nil {
				l.Model.Forward([]int32{BOSID, SEPID}, []int32{EOSID, -1}, 1, 2)
			}
			HeadFromSnapshot(&s.Models[i])
		}
	})
}
