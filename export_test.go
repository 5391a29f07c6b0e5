package pinfold

// SetPrepareMin sets how many updates NewEndpointWriter needs to prepare them on another
// goroutine, and returns a function that puts it back.
func SetPrepareMin(n int) (restore func()) {
	old := prepareMin
	prepareMin = n
	return func() { prepareMin = old }
}

// SetReadEveryUser makes NewEndpointWriter read the endpoints of every user the updates
// name, and returns a function that puts it back.
func SetReadEveryUser(every bool) (restore func()) {
	old := readEveryUser
	readEveryUser = every
	return func() { readEveryUser = old }
}
