package main

func runTSA(args []string) error {
	return usageError{"tsa: not built yet"}
}
