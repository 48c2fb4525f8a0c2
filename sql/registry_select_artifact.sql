SELECT bytes FROM registry.artifacts WHERE sha256 = $1
