package kev

// Fix is how the release a device runs is fixed within its own train,
// from the range of an entry that contains it.
type Fix struct {
	// Fixed is the first fixed release when the range names it.
	Fixed string
	// LastAffected is set instead when the range names only the last
	// affected release: the fix is a later release of the same train.
	LastAffected string
	// NoFix is true when the vendor never fixed the train: the device
	// must move to a supported train.
	NoFix bool
	// OtherTrain is true when Fixed or LastAffected belongs to a later
	// train than the device's (a range with no lower bound): the device's
	// own train has no fix, and the way out is that later train.
	OtherTrain bool
}

// FixFor finds the range of e that contains version and says how that
// train is fixed; false when version is not in e's ranges or not in the
// vendor's syntax.
func (e Entry) FixFor(version string) (Fix, bool) {
	v, err := ParseVersion(e.Vendor, version)
	if err != nil {
		return Fix{}, false
	}
	for _, r := range e.Affected {
		if !r.contains(e.Vendor, v) {
			continue
		}
		if r.AllOfTrain {
			return Fix{NoFix: true}, true
		}
		// The bounds were checked by Parse of the feed.
		bound, _ := ParseVersion(e.Vendor, r.Fixed+r.Last)
		fix := Fix{Fixed: r.Fixed, LastAffected: r.Last, OtherTrain: !v.sameTrain(bound)}
		fix.NoFix = fix.OtherTrain
		return fix, true
	}
	return Fix{}, false
}
