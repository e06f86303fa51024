namespace PSKafka.Cmdlets;

public sealed record Department(int Id, string Name);

public sealed record Category(int Id, string Name, Department Department);

public sealed record Product(int Id, string Name, Category Category, decimal Price);

/// <summary>
/// PSKafka's own catalogue of a sports shop, shaped like gen_logs' (7 departments, 58 categories,
/// 1,000 priced products). Departments and categories are hand-made; products are derived from them
/// with a fixed arithmetic generator, so the catalogue is the same on every machine and every run.
/// </summary>
public sealed class SportsCatalogue
{
    public const int ProductCount = 1000;

    public IReadOnlyList<Department> Departments { get; }
    public IReadOnlyList<Category> Categories { get; }
    public IReadOnlyList<Product> Products { get; }

    // Department → categories, each with the things it sells and a price band in dollars.
    // Names deliberately include '&', apostrophes and spaces: they exercise the URL quoting.
    private static readonly (string Department, (string Name, string[] Items, int Low, int High)[] Categories)[] Layout =
    [
        ("Team Sports",
        [
            ("Soccer", ["Match Ball", "Training Ball", "Shin Guards", "Goalkeeper Gloves"], 15, 160),
            ("Basketball", ["Indoor Ball", "Outdoor Ball", "Portable Hoop", "Net"], 20, 900),
            ("Baseball & Softball", ["Bat", "Fielding Glove", "Batting Helmet", "Ball Bucket"], 15, 400),
            ("American Football", ["Game Ball", "Shoulder Pads", "Kicking Tee", "Helmet"], 10, 350),
            ("Volleyball", ["Beach Ball", "Court Ball", "Knee Pads", "Net System"], 15, 300),
            ("Ice Hockey", ["Stick", "Puck Pack", "Skates", "Goalie Pads"], 10, 700),
            ("Lacrosse", ["Stick", "Head", "Gloves", "Ball Pack"], 10, 250),
            ("Rugby", ["Match Ball", "Scrum Cap", "Tackle Bag", "Kicking Tee"], 10, 200),
            ("Cricket", ["Bat", "Batting Pads", "Ball", "Wicket Set"], 15, 450),
        ]),
        ("Training",
        [
            ("Cardio Machines", ["Treadmill", "Elliptical", "Rowing Machine", "Exercise Bike"], 300, 2500),
            ("Weights & Plates", ["Dumbbell Set", "Kettlebell", "Bumper Plate Pair", "Barbell"], 20, 600),
            ("Yoga & Pilates", ["Yoga Mat", "Foam Block", "Pilates Ring", "Strap"], 8, 120),
            ("Boxing & Martial Arts", ["Boxing Gloves", "Heavy Bag", "Hand Wraps", "Sparring Headgear"], 10, 300),
            ("Recovery & Massage", ["Foam Roller", "Massage Gun", "Massage Ball", "Compression Sleeve"], 10, 400),
            ("Fitness Trackers", ["Heart Rate Strap", "GPS Watch", "Activity Band", "Smart Scale"], 40, 600),
            ("Jump Ropes & Bands", ["Speed Rope", "Resistance Band Set", "Mini Band", "Weighted Rope"], 5, 60),
            ("Benches & Racks", ["Adjustable Bench", "Squat Rack", "Pull-up Bar", "Dumbbell Rack"], 30, 1200),
            ("Gym Bags", ["Duffel", "Backpack", "Shoe Bag", "Tote"], 15, 120),
        ]),
        ("Footwear",
        [
            ("Men's Running Shoes", ["Road Runner", "Tempo Trainer", "Racing Flat", "Stability Shoe"], 50, 220),
            ("Women's Running Shoes", ["Road Runner", "Tempo Trainer", "Racing Flat", "Stability Shoe"], 50, 220),
            ("Kids' Shoes", ["Sneaker", "Runner", "Court Shoe", "Velcro Trainer"], 25, 90),
            ("Trail Shoes", ["Trail Runner", "Fell Shoe", "Waterproof Trail Shoe", "Ultra Shoe"], 70, 230),
            ("Court Shoes", ["Tennis Shoe", "Indoor Court Shoe", "Basketball Shoe", "Squash Shoe"], 50, 200),
            ("Cleats & Spikes", ["Soccer Cleat", "Football Cleat", "Track Spike", "Baseball Cleat"], 40, 250),
            ("Sandals & Slides", ["Slide", "Sport Sandal", "Flip-Flop", "Recovery Sandal"], 15, 80),
            ("Hiking Boots", ["Day Hiker", "Backpacking Boot", "Winter Boot", "Approach Shoe"], 80, 300),
        ]),
        ("Clothing",
        [
            ("Men's Tops", ["Tech Tee", "Long Sleeve Top", "Quarter-Zip", "Tank"], 15, 90),
            ("Women's Tops", ["Tech Tee", "Long Sleeve Top", "Sports Bra", "Tank"], 15, 90),
            ("Shorts & Tights", ["Running Short", "Training Short", "Full Tight", "Capri"], 15, 100),
            ("Jackets & Vests", ["Rain Jacket", "Insulated Vest", "Softshell", "Windbreaker"], 40, 350),
            ("Socks", ["Crew Sock 3-Pack", "No-Show Sock", "Compression Sock", "Hiking Sock"], 5, 40),
            ("Swimwear", ["Swim Brief", "Jammer", "One-Piece", "Swim Cap"], 10, 90),
            ("Hats & Headbands", ["Running Cap", "Beanie", "Headband", "Sun Hat"], 8, 45),
            ("Compression Wear", ["Base Layer Top", "Base Layer Tight", "Calf Sleeve", "Arm Sleeve"], 15, 110),
        ]),
        ("Racquet & Golf",
        [
            ("Tennis Racquets", ["Power Racquet", "Control Racquet", "Junior Racquet", "Tour Racquet"], 30, 280),
            ("Tennis Balls & Gear", ["Ball Can", "Overgrip Pack", "Ball Hopper", "String Reel"], 4, 120),
            ("Badminton", ["Racquet", "Shuttlecock Tube", "Net Set", "Racquet Bag"], 8, 180),
            ("Squash", ["Racquet", "Ball Pair", "Eyewear", "Grip"], 5, 220),
            ("Table Tennis", ["Paddle", "Ball Pack", "Table", "Net Set"], 5, 900),
            ("Golf Clubs", ["Driver", "Iron Set", "Putter", "Hybrid"], 90, 1600),
            ("Golf Balls", ["Tour Ball Dozen", "Distance Ball Dozen", "Practice Ball Bucket", "Soft Ball Dozen"], 15, 60),
            ("Golf Bags & Carts", ["Stand Bag", "Cart Bag", "Push Cart", "Travel Cover"], 60, 450),
        ]),
        ("Outdoor & Camping",
        [
            ("Tents", ["Two-Person Tent", "Family Tent", "Ultralight Tent", "Shelter Tarp"], 50, 800),
            ("Sleeping Bags", ["Summer Bag", "Three-Season Bag", "Winter Bag", "Sleeping Pad"], 30, 450),
            ("Backpacks", ["Daypack", "Hydration Pack", "Trekking Pack", "Expedition Pack"], 30, 400),
            ("Camp Kitchen", ["Stove", "Cook Set", "Water Filter", "Cooler"], 15, 350),
            ("Climbing", ["Harness", "Rope", "Carabiner Set", "Chalk Bag"], 8, 320),
            ("Fishing", ["Spinning Rod", "Fly Rod", "Reel", "Tackle Box"], 10, 450),
            ("Kayaks & Paddles", ["Sit-on-Top Kayak", "Touring Kayak", "Paddle", "Life Vest"], 40, 1800),
            ("Lights & Lanterns", ["Headlamp", "Lantern", "Flashlight", "String Lights"], 10, 120),
        ]),
        ("Bikes & Boards",
        [
            ("Road Bikes", ["Endurance Bike", "Aero Bike", "Gravel Bike", "Entry Road Bike"], 500, 2000),
            ("Mountain Bikes", ["Hardtail", "Trail Bike", "Enduro Bike", "Kids' Mountain Bike"], 300, 2000),
            ("Bike Helmets", ["Road Helmet", "Trail Helmet", "Commuter Helmet", "Kids' Helmet"], 25, 250),
            ("Bike Parts", ["Tube Pack", "Tire", "Chain", "Pedal Set"], 6, 160),
            ("Skateboards", ["Complete Deck", "Cruiser", "Longboard", "Wheel Set"], 25, 250),
            ("Snowboards", ["All-Mountain Board", "Freestyle Board", "Bindings", "Snowboard Boots"], 100, 700),
            ("Skis", ["All-Mountain Skis", "Carving Skis", "Ski Boots", "Poles"], 40, 900),
            ("Scooters", ["Kick Scooter", "Stunt Scooter", "Kids' Scooter", "Electric Scooter"], 40, 800),
        ]),
    ];

    private static readonly string[] Brands =
    [
        "Northpeak", "Velox", "Ironridge", "Bluefin", "Kestrel", "Crestwood", "Fieldhouse", "Tidewater", "Rallye", "Summitline",
    ];

    private static readonly string[] ModelLines = ["Pro", "Elite", "Sport", "Classic", "Junior", "Max", "Lite", "Tour", "Flex"];

    // After the lists above: static fields initialise in text order and the constructor reads them.
    public static SportsCatalogue Default { get; } = new();

    private SportsCatalogue()
    {
        var departments = new List<Department>();
        var categories = new List<Category>();
        var products = new List<Product>(ProductCount);
        var layout = new List<(Category Category, string[] Items, int Low, int High)>();
        foreach (var (departmentName, departmentCategories) in Layout)
        {
            var department = new Department(departments.Count + 1, departmentName);
            departments.Add(department);
            foreach (var (name, items, low, high) in departmentCategories)
            {
                var category = new Category(categories.Count + 1, name, department);
                categories.Add(category);
                layout.Add((category, items, low, high));
            }
        }

        // 1,000 products spread as evenly as the categories allow (17 or 18 each).
        var random = new FixedSequence(20140724);
        for (var c = 0; c < layout.Count; c++)
        {
            var (category, items, low, high) = layout[c];
            var count = ProductCount / layout.Count + (c < ProductCount % layout.Count ? 1 : 0);
            for (var i = 0; i < count; i++)
            {
                var name = $"{Brands[random.Next(Brands.Length)]} {ModelLines[random.Next(ModelLines.Length)]} {items[i % items.Length]}";
                products.Add(new Product(products.Count + 1, name, category, PriceBetween(low, high, random)));
            }
        }

        Departments = departments;
        Categories = categories;
        Products = products;
    }

    // Log-uniform in the band, so every band has cheap and dear items; shop prices end in .99.
    private static decimal PriceBetween(int low, int high, FixedSequence random)
    {
        var dollars = Math.Exp(Math.Log(low) + random.NextDouble() * (Math.Log(high) - Math.Log(low)));
        return Math.Max(1, (int)Math.Round(dollars)) - 0.01m;
    }

    // A fixed SplitMix64 sequence rather than System.Random, whose seeded output is not a documented contract.
    private sealed class FixedSequence(ulong state)
    {
        public ulong NextUInt64()
        {
            var z = state += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }

        public int Next(int exclusiveMax) => (int)(NextUInt64() % (ulong)exclusiveMax);

        public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
    }
}
