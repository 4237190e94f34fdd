//! Every bundled workflow, end to end, on real photographs and rendered product scenes.

use shotline_core::codec::{self, Limits};
use shotline_core::engine::{run, Input, RunOptions, RunReport, Status};
use shotline_core::products::ProductTable;
use shotline_core::templates;

const PRODUCTS: &str = include_str!("../../../fixtures/products.csv");

fn scenes() -> Vec<Input> {
    let table = ProductTable::from_csv(PRODUCTS).unwrap();
    let files: [(&str, &[u8]); 3] = [
        (
            "mug.jpg",
            include_bytes!("../../../fixtures/scenes/mug.jpg"),
        ),
        (
            "ring.jpg",
            include_bytes!("../../../fixtures/scenes/ring.jpg"),
        ),
        (
            "shoe.jpg",
            include_bytes!("../../../fixtures/scenes/shoe.jpg"),
        ),
    ];
    files
        .iter()
        .map(|(n, b)| Input {
            name: n.to_string(),
            bytes: b.to_vec(),
            product: table.lookup(n).cloned().unwrap_or_default(),
        })
        .collect()
}

fn photos() -> Vec<Input> {
    vec![
        Input::new(
            "coffee.jpg",
            include_bytes!("../../../fixtures/photos/coffee.jpg").to_vec(),
        ),
        Input::new(
            "astronaut.jpg",
            include_bytes!("../../../fixtures/photos/astronaut.jpg").to_vec(),
        ),
        Input::new(
            "rocket.jpg",
            include_bytes!("../../../fixtures/photos/rocket.jpg").to_vec(),
        ),
    ]
}

fn run_template(id: &str, inputs: &[Input]) -> RunReport {
    let wf = templates::get(id).unwrap_or_else(|| panic!("template {id}"));
    let report = run(&wf, inputs, &RunOptions::default()).expect("valid workflow");
    for p in &report.photos {
        assert_eq!(p.status, Status::Ok, "{id} / {}: {:?}", p.file, p.error);
    }
    report
}

/// Decodes an artifact and asserts every border pixel is exactly white.
fn assert_white_border(name: &str, bytes: &[u8]) {
    let img = codec::decode(name, bytes, &Limits::default())
        .unwrap()
        .image;
    let (w, h) = img.dimensions();
    for x in 0..w {
        for y in [0, h - 1] {
            assert_eq!(&img.get(x, y)[..3], &[255, 255, 255], "{name} at ({x},{y})");
        }
    }
    for y in 0..h {
        for x in [0, w - 1] {
            assert_eq!(&img.get(x, y)[..3], &[255, 255, 255], "{name} at ({x},{y})");
        }
    }
}

/// "Amazon main image": one 2000² JPEG per photo, named by SKU, pure white border, compliant.
#[test]
fn amazon_main_image() {
    let report = run_template("amazon-main", &scenes());
    for p in &report.photos {
        assert_eq!(p.artifacts.len(), 1, "{}", p.file);
        let a = &p.artifacts[0];
        assert_eq!(
            (a.width, a.height, a.mime.as_str()),
            (2000, 2000, "image/jpeg")
        );
        assert!(
            a.name.ends_with("-amazon_main.jpg") && a.name.starts_with(p.product.get("sku")),
            "{}",
            a.name
        );
        assert_white_border(&a.name, &a.bytes);
        let c = a.compliance.as_ref().expect("checked");
        assert!(c.pass, "{}: {:?}", a.name, c.rules);
        let copy = p.copy.as_ref().expect("copy generated");
        assert!(copy.title.contains(p.product.get("title")), "{copy:?}");
    }
    let listing = report.listing_csv();
    assert_eq!(listing.lines().count(), 4);
}

/// "Shopify + Instagram pack": three sizes per photo from one line.
#[test]
fn shopify_instagram_pack() {
    let report = run_template("shopify-instagram", &scenes()[..2]);
    for p in &report.photos {
        let sizes: Vec<(u32, u32)> = p.artifacts.iter().map(|a| (a.width, a.height)).collect();
        assert_eq!(
            sizes,
            vec![(2048, 2048), (1080, 1080), (1080, 1350)],
            "{}",
            p.file
        );
        for a in &p.artifacts {
            assert!(
                a.compliance.as_ref().is_some_and(|c| c.pass),
                "{}: {:?}",
                a.name,
                a.compliance
            );
        }
        assert!(!p.copy.as_ref().unwrap().instagram.is_empty());
    }
}

/// "Jewellery: glare fix then Amazon" on the ring: compliant, and the glare step ran.
#[test]
fn jewellery_glare_then_amazon() {
    let report = run_template("jewellery-glare-amazon", &scenes()[1..2]);
    let p = &report.photos[0];
    assert!(p
        .steps
        .iter()
        .any(|s| s.step == "reduce_glare" && s.status == Status::Ok));
    assert!(p.artifacts[0].compliance.as_ref().unwrap().pass);
}

/// "Social with watermark" works on ordinary photographs (no product data at all).
#[test]
fn social_with_watermark_on_photographs() {
    let report = run_template("social-watermark", &photos());
    for p in &report.photos {
        assert_eq!((p.artifacts[0].width, p.artifacts[0].height), (1080, 1080));
        assert!(
            p.artifacts[0].name.ends_with("-social.jpg"),
            "{}",
            p.artifacts[0].name
        );
    }
}

/// "Rules by category": jewellery takes the THEN branch, others ELSE; small photos get a warning.
#[test]
fn rules_by_category() {
    let mut inputs = scenes();
    inputs.push(Input::new(
        "coffee.jpg",
        include_bytes!("../../../fixtures/photos/coffee.jpg").to_vec(),
    ));
    let report = run_template("by-category", &inputs);
    let branch = |file: &str| {
        let p = report.photos.iter().find(|p| p.file == file).unwrap();
        p.steps
            .iter()
            .find(|s| s.path == "steps[0]")
            .and_then(|s| s.message.clone())
            .unwrap()
    };
    assert_eq!(branch("ring.jpg"), "then");
    assert_eq!(branch("mug.jpg"), "else");
    let coffee = report
        .photos
        .iter()
        .find(|p| p.file == "coffee.jpg")
        .unwrap();
    assert_eq!(
        coffee.warnings,
        vec!["coffee.jpg is only 600×400 px; marketplaces prefer 1000 px or more".to_string()]
    );
    assert!(report
        .photos
        .iter()
        .find(|p| p.file == "shoe.jpg")
        .unwrap()
        .warnings
        .is_empty());
    for p in &report.photos {
        assert_eq!(p.artifacts.len(), 2, "{}", p.file);
    }
}

/// A corrupt photo fails alone; the rest of the batch is unaffected.
#[test]
fn one_failure_does_not_stop_the_others() {
    let mut inputs = scenes();
    inputs.insert(
        1,
        Input::new(
            "broken.jpg",
            include_bytes!("../../../fixtures/scenes/mug.jpg")[..500].to_vec(),
        ),
    );
    let wf = templates::get("amazon-main").unwrap();
    let report = run(&wf, &inputs, &RunOptions::default()).unwrap();
    assert_eq!((report.ok, report.failed), (3, 1));
    let broken = &report.photos[1];
    assert!(
        broken.error.as_ref().unwrap().starts_with("broken.jpg:"),
        "{:?}",
        broken.error
    );
    assert!(broken.artifacts.is_empty());
}
