"""The manual's ice-cream route file, plus a route that exercises every precondition rule."""

routes = {
    "group": "demo",
    "name": "My icecream API",
    "version": "1.0",
    "prefix": ["/icecream/v1", "/icecream/latest"],
    "corsHeaders": {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": "Content-Type",
        "Access-Control-Allow-Credentials": True,
    },
    "routes": {
        "./flavours": {
            "list": {
                "identity": "icecreamFlavours",
                "description": "Tell the server your favourite flavour",
                "controller": [
                    {"name": "myIceCreamController", "version": "1.0", "function": "favoriteFlavour"},
                    {"name": "generic-defaultResponse", "version": "1.0"},
                ],
            }
        },
        "./rules/:code": {
            "post": {
                "identity": "rulesShowcase",
                "description": "Echoes what every precondition rule made of the request",
                "controller": [
                    {"name": "demo-rulesShowcase", "version": "1.0"},
                    {"name": "generic-defaultResponse", "version": "1.0"},
                ],
            }
        },
    },
}
