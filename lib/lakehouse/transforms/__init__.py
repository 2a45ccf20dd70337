"""Pure DataFrame -> DataFrame steps by domain, chained with DataFrame.transform; they never know paths."""
