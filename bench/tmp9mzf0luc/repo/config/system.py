"""System configuration: project folder names and the default culture (mia.js's config/system.js)."""

system = {
    # Directory names of the module kinds inside every project folder.
    "path": {
        "projects": "projects",
        "modules": {
            "routes": "routes",
            "models": "models",
            "controllers": "controllers",
            "crons": "crons",
            "public": "public",
            "libs": "libs",
            "config": "config",
            "init": "init",
        },
        "init": "init",
    },
    # Culture used for translations when neither the request nor the device names one.
    "defaultCulture": {"language": "en", "region": "gb"},
}
