package app

// Pages whose engine has landed. A page whose engine is missing is not routed, not
// linked and not faked.
var (
	lessonAvailable = true
)
