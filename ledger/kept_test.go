package ledger

import (
	"slices"
	"testing"
)

func TestKeptSnapshots(t *testing.T) {
	snap := func(medium, id string) Entry {
		return Entry{Kind: KindSnapshot, Medium: medium, Payload: SnapshotData{Snapshot: id, Source: "emr"}}
	}
	forget := func(medium string, ids ...string) Entry {
		return Entry{Kind: KindForget, Medium: medium, Payload: ForgetData{Removed: ids}}
	}
	var entries []Entry
	for _, e := range []Entry{snap("a", "s1"), snap("b", "s2"), snap("a", "s3"), forget("a", "s1"), forget("b", "s3"), snap("a", "s4")} {
		data, err := encodePayload(e)
		if err != nil {
			t.Fatal(err)
		}
		e.Data, e.Payload = data, nil
		entries = append(entries, e)
	}
	var got []string
	for _, k := range KeptSnapshots(entries, "a") {
		got = append(got, k.Data.Snapshot)
	}
	if !slices.Equal(got, []string{"s3", "s4"}) {
		t.Fatalf("kept on a: %v, want [s3 s4] (s1 forgotten; b's forget does not count)", got)
	}
}
