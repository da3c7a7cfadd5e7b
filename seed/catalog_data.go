package seed

// The demo catalog's vocabulary. Product i is built from these tables by a random source seeded
// with i, so the same product comes out on every run and at every catalog size.

type sellerSeed struct{ slug, name string }

var sellerSeeds = []sellerSeed{
	{"northwind-electronics", "Northwind Electronics"},
	{"bluewave-audio", "Bluewave Audio"},
	{"summit-outfitters", "Summit Outfitters"},
	{"hearth-and-home", "Hearth & Home"},
	{"pixelpeak-gadgets", "PixelPeak Gadgets"},
	{"metro-marketplace", "Metro Marketplace"},
}

// leafSeed describes one subcategory and how to write its products.
type leafSeed struct {
	slug, name string
	// noun ends a product name ("Laptop"); brands and lines start it.
	noun     string
	brands   []string
	lines    []string
	variants []string
	// adjectives and features fill the description.
	adjectives []string
	features   []string
	// minPrice and maxPrice bound the price in whole dollars.
	minPrice, maxPrice int
}

type topSeed struct {
	slug, name string
	sellers    []string
	leaves     []leafSeed
}

var categorySeeds = []topSeed{
	{
		slug: "computers", name: "Computers",
		sellers: []string{"northwind-electronics", "pixelpeak-gadgets", "metro-marketplace"},
		leaves: []leafSeed{
			{
				slug: "laptops", name: "Laptops", noun: "Laptop",
				brands:     []string{"Aurora", "Nimbus", "Vertex", "Kestrel", "Lumen"},
				lines:      []string{"Air 13", "Pro 14", "Pro 16", "Studio 15", "Go 12", "Edge 14", "Gaming 17", "Creator 16"},
				variants:   []string{"8 GB RAM, 256 GB SSD", "16 GB RAM, 512 GB SSD", "32 GB RAM, 1 TB SSD"},
				adjectives: []string{"thin and light", "powerful", "portable", "versatile", "premium"},
				features: []string{"all-day battery life of up to 18 hours", "a bright 400-nit IPS display",
					"a backlit keyboard", "Wi-Fi 6E and Bluetooth 5.3", "two USB-C ports with fast charging",
					"a 1080p webcam with a privacy shutter", "a fingerprint reader", "an aluminium unibody chassis",
					"a 120 Hz high refresh rate screen", "a dedicated graphics card for games and video editing"},
				minPrice: 449, maxPrice: 2799,
			},
			{
				slug: "desktops", name: "Desktops", noun: "Desktop PC",
				brands:     []string{"Vertex", "Kestrel", "Monolith", "Aurora"},
				lines:      []string{"Tower 500", "Mini 300", "Studio 900", "Gaming X7", "Workstation W5"},
				variants:   []string{"Core i5, 16 GB RAM", "Core i7, 32 GB RAM", "Ryzen 9, 64 GB RAM"},
				adjectives: []string{"quiet", "compact", "high-performance", "upgradeable"},
				features: []string{"a tool-less case for easy upgrades", "Wi-Fi 6 and Bluetooth", "a 1 TB NVMe SSD",
					"front USB-C and SD card reader", "liquid cooling", "a discrete graphics card",
					"a wireless keyboard and mouse in the box"},
				minPrice: 599, maxPrice: 3499,
			},
			{
				slug: "monitors", name: "Monitors", noun: "Monitor",
				brands:     []string{"ClearView", "Lumen", "Pixelon", "Vertex"},
				lines:      []string{"24\" Full HD", "27\" QHD", "27\" 4K", "32\" 4K", "34\" Ultrawide"},
				variants:   []string{"75 Hz", "144 Hz", "165 Hz"},
				adjectives: []string{"sharp", "colour-accurate", "frameless", "ergonomic"},
				features: []string{"a height-adjustable stand", "USB-C with 65 W power delivery", "HDR400 support",
					"built-in speakers", "a matte anti-glare panel", "flicker-free backlight and a low blue light mode",
					"VESA mount holes"},
				minPrice: 129, maxPrice: 899,
			},
			{
				slug: "keyboards-mice", name: "Keyboards & Mice", noun: "Keyboard",
				brands:     []string{"Keystone", "Clicktastic", "Logix", "Vertex"},
				lines:      []string{"Mechanical K2", "Wireless Slim", "Ergo Split", "Compact 75%", "Gaming RGB"},
				variants:   []string{"Brown switches", "Red switches", "Silent keys"},
				adjectives: []string{"comfortable", "quiet", "wireless", "tactile"},
				features: []string{"hot-swappable switches", "Bluetooth and a 2.4 GHz receiver", "a rechargeable battery lasting months",
					"per-key RGB lighting", "a detachable USB-C cable", "a padded wrist rest", "Mac and Windows layouts"},
				minPrice: 29, maxPrice: 229,
			},
		},
	},
	{
		slug: "audio", name: "Audio",
		sellers: []string{"bluewave-audio", "metro-marketplace", "pixelpeak-gadgets"},
		leaves: []leafSeed{
			{
				slug: "headphones", name: "Headphones", noun: "Headphones",
				brands:     []string{"Bluewave", "Sonora", "Echo Labs", "Quietude", "Resonant"},
				lines:      []string{"Studio Over-Ear", "Wireless ANC", "Travel Foldable", "Reference Open-Back", "Bass Boost"},
				variants:   []string{"Black", "Silver", "Midnight Blue"},
				adjectives: []string{"wireless", "comfortable", "studio-grade", "lightweight"},
				features: []string{"active noise cancelling", "up to 40 hours of battery life", "plush memory-foam ear cushions",
					"Bluetooth 5.3 with multipoint pairing", "a detachable cable for wired listening", "a built-in microphone for calls",
					"a transparency mode", "a foldable design with a hard case"},
				minPrice: 39, maxPrice: 449,
			},
			{
				slug: "earbuds", name: "Earbuds", noun: "Earbuds",
				brands:     []string{"Bluewave", "Sonora", "Echo Labs", "Pebble"},
				lines:      []string{"True Wireless", "Sport Fit", "Pro ANC", "Mini"},
				variants:   []string{"White", "Black", "Sage Green"},
				adjectives: []string{"tiny", "sweat-proof", "wireless", "secure-fit"},
				features: []string{"noise cancelling", "a wireless charging case", "IPX5 water resistance", "8 hours of playback per charge",
					"touch controls", "ear hooks for running", "low-latency gaming mode"},
				minPrice: 19, maxPrice: 279,
			},
			{
				slug: "speakers", name: "Speakers", noun: "Speaker",
				brands:     []string{"Bluewave", "Boomfield", "Sonora", "Resonant"},
				lines:      []string{"Portable Bluetooth", "Smart Home", "Bookshelf Pair", "Soundbar 3.1", "Party XL"},
				variants:   []string{"Charcoal", "Sand", "Ocean Blue"},
				adjectives: []string{"room-filling", "waterproof", "compact", "powerful"},
				features: []string{"360-degree sound", "a 20-hour battery", "voice assistant built in", "IP67 waterproofing",
					"stereo pairing with a second speaker", "an HDMI eARC input", "deep bass from a passive radiator"},
				minPrice: 29, maxPrice: 899,
			},
		},
	},
	{
		slug: "phones-tablets", name: "Phones & Tablets",
		sellers: []string{"northwind-electronics", "pixelpeak-gadgets", "metro-marketplace"},
		leaves: []leafSeed{
			{
				slug: "smartphones", name: "Smartphones", noun: "Smartphone",
				brands:     []string{"Nova", "Orbit", "Pixelon", "Zephyr"},
				lines:      []string{"S12", "S12 Plus", "Lite 5G", "Ultra", "Fold"},
				variants:   []string{"128 GB", "256 GB", "512 GB"},
				adjectives: []string{"flagship", "affordable", "sleek", "long-lasting"},
				features: []string{"a triple-lens camera with night mode", "a 6.5-inch OLED display", "5G connectivity",
					"a 5000 mAh battery", "fast wired and wireless charging", "an IP68 water-resistant body", "dual SIM support"},
				minPrice: 199, maxPrice: 1599,
			},
			{
				slug: "tablets", name: "Tablets", noun: "Tablet",
				brands:     []string{"Nova", "Orbit", "Slate"},
				lines:      []string{"Tab 10", "Tab 11 Pro", "Kids Edition", "Paper E-Ink"},
				variants:   []string{"64 GB Wi-Fi", "128 GB Wi-Fi", "256 GB 5G"},
				adjectives: []string{"slim", "family-friendly", "productive", "lightweight"},
				features: []string{"stylus support", "a keyboard cover accessory", "quad speakers", "a 2K display",
					"all-day battery", "a kid-proof case", "a glare-free paper-like screen"},
				minPrice: 99, maxPrice: 1199,
			},
			{
				slug: "phone-accessories", name: "Phone Accessories", noun: "Charger",
				brands:     []string{"Voltix", "Anchorline", "Pixelon"},
				lines:      []string{"GaN 65W", "MagSnap Wireless", "Car Mount", "Power Bank 20000", "Braided USB-C Cable"},
				variants:   []string{"1-pack", "2-pack", "Travel Kit"},
				adjectives: []string{"fast", "compact", "durable", "travel-ready"},
				features: []string{"USB-C Power Delivery", "foldable plugs", "overheat protection", "magnetic alignment",
					"a braided nylon cable", "charges a laptop and a phone at once"},
				minPrice: 9, maxPrice: 129,
			},
		},
	},
	{
		slug: "cameras", name: "Cameras",
		sellers: []string{"pixelpeak-gadgets", "northwind-electronics", "metro-marketplace"},
		leaves: []leafSeed{
			{
				slug: "digital-cameras", name: "Digital Cameras", noun: "Camera",
				brands:     []string{"Optica", "Lumix-Pro", "Fotomax"},
				lines:      []string{"Mirrorless M50", "Full-Frame R8", "Compact Zoom", "Vlogging V10", "Instant Mini"},
				variants:   []string{"Body Only", "with 18-55mm Lens", "Creator Kit"},
				adjectives: []string{"mirrorless", "pocketable", "professional", "beginner-friendly"},
				features: []string{"a 24-megapixel sensor", "4K video at 60 fps", "in-body image stabilisation", "a flip-out touchscreen",
					"fast eye-tracking autofocus", "weather sealing", "Wi-Fi photo transfer"},
				minPrice: 149, maxPrice: 3299,
			},
			{
				slug: "lenses", name: "Lenses", noun: "Lens",
				brands:     []string{"Optica", "Sigmar", "Fotomax"},
				lines:      []string{"50mm f/1.8 Prime", "24-70mm f/2.8 Zoom", "70-200mm Telephoto", "16mm Wide Angle", "100mm Macro"},
				variants:   []string{"E-mount", "RF-mount", "Z-mount"},
				adjectives: []string{"sharp", "fast", "compact", "weather-sealed"},
				features: []string{"creamy background blur", "silent autofocus for video", "optical stabilisation", "low distortion",
					"a metal mount", "a lens hood included"},
				minPrice: 129, maxPrice: 2299,
			},
			{
				slug: "action-cameras", name: "Action Cameras & Drones", noun: "Action Camera",
				brands:     []string{"GoFar", "Skyward", "Optica"},
				lines:      []string{"Hero 5K", "360 Max", "Mini Drone", "Explorer Drone"},
				variants:   []string{"Standard", "Adventure Bundle", "Fly More Combo"},
				adjectives: []string{"rugged", "waterproof", "foldable", "stabilised"},
				features: []string{"waterproof to 10 metres", "horizon levelling", "obstacle avoidance", "a 30-minute flight time",
					"4K HDR video", "voice control", "a helmet mount"},
				minPrice: 99, maxPrice: 1499,
			},
		},
	},
	{
		slug: "gaming", name: "Gaming",
		sellers: []string{"northwind-electronics", "bluewave-audio", "metro-marketplace"},
		leaves: []leafSeed{
			{
				slug: "consoles", name: "Consoles", noun: "Console",
				brands:     []string{"PlayOrbit", "Nexus", "Retroflux"},
				lines:      []string{"Home 2", "Handheld Go", "Retro Mini", "Pro X"},
				variants:   []string{"512 GB", "1 TB", "Digital Edition"},
				adjectives: []string{"next-generation", "portable", "family", "retro"},
				features: []string{"4K gaming at 120 fps", "a fast SSD with quick resume", "backward compatibility", "a 7-inch OLED screen",
					"two controllers included", "30 classic games built in"},
				minPrice: 79, maxPrice: 699,
			},
			{
				slug: "controllers", name: "Controllers", noun: "Controller",
				brands:     []string{"PlayOrbit", "Nexus", "Gripline"},
				lines:      []string{"Wireless Pro", "Elite Paddle", "Arcade Stick", "Racing Wheel"},
				variants:   []string{"Black", "Arctic White", "Volcanic Red"},
				adjectives: []string{"responsive", "ergonomic", "wireless", "tournament-grade"},
				features: []string{"hall-effect sticks that never drift", "rear paddles", "40 hours of battery", "force feedback",
					"a 3.5 mm headset jack", "swappable thumbsticks"},
				minPrice: 29, maxPrice: 399,
			},
			{
				slug: "gaming-headsets", name: "Gaming Headsets", noun: "Gaming Headset",
				brands:     []string{"Bluewave", "Nexus", "Resonant"},
				lines:      []string{"Surround 7.1", "Wireless Lite", "Pro Tournament"},
				variants:   []string{"PC", "Console", "Multi-platform"},
				adjectives: []string{"immersive", "lightweight", "wireless", "comfortable"},
				features: []string{"a noise-cancelling boom microphone", "7.1 surround sound", "memory-foam ear cushions",
					"a 2.4 GHz low-latency connection", "on-ear volume dial", "RGB lighting"},
				minPrice: 29, maxPrice: 299,
			},
		},
	},
	{
		slug: "home-kitchen", name: "Home & Kitchen",
		sellers: []string{"hearth-and-home", "metro-marketplace"},
		leaves: []leafSeed{
			{
				slug: "coffee-espresso", name: "Coffee & Espresso", noun: "Coffee Maker",
				brands:     []string{"Barista Bros", "Crema", "Hearthstone"},
				lines:      []string{"Espresso Machine Duo", "Drip 12-Cup", "Pour-Over Kettle", "Burr Grinder", "Cold Brew"},
				variants:   []string{"Stainless Steel", "Matte Black", "Cream"},
				adjectives: []string{"cafe-quality", "programmable", "compact", "precise"},
				features: []string{"a 15-bar pump for rich espresso", "a steam wand for milk froth", "a programmable timer",
					"a conical burr grinder", "a gooseneck spout for pour-over", "a thermal carafe", "a descaling reminder"},
				minPrice: 24, maxPrice: 899,
			},
			{
				slug: "cookware", name: "Cookware", noun: "Pan",
				brands:     []string{"Ironclad", "Hearthstone", "Copperleaf"},
				lines:      []string{"Cast Iron Skillet", "Non-Stick Fry", "Stainless Saute", "Dutch Oven", "Wok"},
				variants:   []string{"20 cm", "26 cm", "30 cm"},
				adjectives: []string{"durable", "oven-safe", "induction-ready", "heirloom"},
				features: []string{"even heat distribution", "a PFAS-free non-stick coating", "an oven-safe handle to 260 C",
					"a pre-seasoned surface", "a tight-fitting lid", "dishwasher-safe construction"},
				minPrice: 19, maxPrice: 399,
			},
			{
				slug: "small-appliances", name: "Small Appliances", noun: "Appliance",
				brands:     []string{"Hearthstone", "Kitchenly", "Voltix"},
				lines:      []string{"Air Fryer 5L", "Blender Pro", "Electric Kettle", "Toaster 4-Slice", "Stand Mixer"},
				variants:   []string{"White", "Black", "Sage"},
				adjectives: []string{"easy-to-clean", "powerful", "space-saving", "smart"},
				features: []string{"one-touch presets", "a 1500 W motor", "a keep-warm function", "dishwasher-safe parts",
					"app control over Wi-Fi", "a boil-dry safety shut-off"},
				minPrice: 19, maxPrice: 599,
			},
		},
	},
	{
		slug: "sports-outdoors", name: "Sports & Outdoors",
		sellers: []string{"summit-outfitters", "metro-marketplace"},
		leaves: []leafSeed{
			{
				slug: "running", name: "Running", noun: "Running Shoes",
				brands:     []string{"Stride", "Fleetfoot", "Summit"},
				lines:      []string{"Road Racer", "Trail Grip", "Cushion Max", "Tempo Lite"},
				variants:   []string{"Men's", "Women's", "Unisex"},
				adjectives: []string{"lightweight", "cushioned", "breathable", "grippy"},
				features: []string{"a responsive foam midsole", "a breathable knit upper", "a grippy rubber outsole for trails",
					"reflective details for night runs", "a carbon plate for race day", "a roomy toe box"},
				minPrice: 49, maxPrice: 249,
			},
			{
				slug: "camping-hiking", name: "Camping & Hiking", noun: "Gear",
				brands:     []string{"Summit", "Basecamp", "Trailhead"},
				lines:      []string{"2-Person Tent", "Down Sleeping Bag", "Hiking Backpack 40L", "Camp Stove", "Trekking Poles"},
				variants:   []string{"Ultralight", "All-Season", "Family"},
				adjectives: []string{"ultralight", "weatherproof", "packable", "rugged"},
				features: []string{"a waterproof rainfly", "a comfort rating of -5 C", "an adjustable torso length",
					"a compression stuff sack", "aluminium poles", "a built-in rain cover"},
				minPrice: 29, maxPrice: 599,
			},
			{
				slug: "fitness", name: "Fitness", noun: "Fitness Equipment",
				brands:     []string{"Ironform", "Flexa", "Summit"},
				lines:      []string{"Adjustable Dumbbells", "Yoga Mat", "Resistance Bands", "Kettlebell", "Foam Roller"},
				variants:   []string{"Light", "Medium", "Heavy"},
				adjectives: []string{"space-saving", "non-slip", "durable", "versatile"},
				features: []string{"a quick-change weight dial", "a non-slip textured surface", "five resistance levels",
					"a carry strap", "a cast-iron body with a powder coat", "a workout guide"},
				minPrice: 14, maxPrice: 449,
			},
		},
	},
	{
		slug: "wearables", name: "Wearables",
		sellers: []string{"pixelpeak-gadgets", "summit-outfitters", "metro-marketplace"},
		leaves: []leafSeed{
			{
				slug: "smartwatches", name: "Smartwatches", noun: "Smartwatch",
				brands:     []string{"Chrono", "Orbit", "Zephyr"},
				lines:      []string{"Watch 5", "Watch 5 Sport", "Classic 42mm", "Outdoor Pro"},
				variants:   []string{"GPS", "GPS + Cellular", "Titanium"},
				adjectives: []string{"stylish", "rugged", "health-focused", "always-on"},
				features: []string{"heart-rate and blood-oxygen sensors", "built-in GPS", "a week of battery life", "contactless payments",
					"sleep tracking", "water resistance to 50 metres", "an always-on AMOLED display"},
				minPrice: 99, maxPrice: 899,
			},
			{
				slug: "fitness-trackers", name: "Fitness Trackers", noun: "Fitness Tracker",
				brands:     []string{"Pulse", "Chrono", "Stride"},
				lines:      []string{"Band 4", "Band 4 Plus", "Ring", "Clip"},
				variants:   []string{"Small", "Large", "Kids"},
				adjectives: []string{"slim", "waterproof", "discreet", "motivating"},
				features: []string{"step and sleep tracking", "a 14-day battery", "stress monitoring", "swim tracking",
					"smartphone notifications", "guided breathing"},
				minPrice: 29, maxPrice: 349,
			},
		},
	},
}

// imageViews name the pictures of a product, for their alt text.
var imageViews = []string{"front view", "side view", "in use", "detail", "in the box"}

// closings end a description.
var closings = []string{
	"Backed by a two-year warranty.",
	"Free returns within 30 days.",
	"A favourite of our customers.",
	"Ships in recyclable packaging.",
	"Designed to last for years.",
	"Includes a quick-start guide.",
}
