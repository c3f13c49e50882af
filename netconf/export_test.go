package netconf

// DerivedLinkLocal is derivedLinkLocal, for the tests of the fallback.
var DerivedLinkLocal = derivedLinkLocal
