package notests

// X is here so the package exists.
const X = 1
