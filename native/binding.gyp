{
	"targets": [
		{
			"target_name": "door",
			"sources": ["door.c"],
			"cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
			"defines": ["NAPI_VERSION=8", "_GNU_SOURCE"]
		}
	]
}
