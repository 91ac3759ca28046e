//! The demo's content: the people who write in, what they say, and the notes and labels agents
//! add. Data only; `demo::seed` puts it through the use cases.

pub(super) struct Person {
    pub name: &'static str,
    pub email: &'static str,
    pub phone: &'static str,
    pub lines: [&'static str; 3],
}

pub(super) const PEOPLE: &[Person] = &[
    Person {
        name: "Emily Carter",
        email: "emily.carter@example.net",
        phone: "+16502530001",
        lines: [
            "Hi, my order #4411 hasn't arrived yet.",
            "Tracking still says 'label created'.",
            "Any update? I need it by Friday.",
        ],
    },
    Person {
        name: "James Wilson",
        email: "james.wilson@example.net",
        phone: "+16502530002",
        lines: [
            "How do I change the shipping address on my order?",
            "I moved last week.",
            "Thanks, that worked!",
        ],
    },
    Person {
        name: "Olivia Brown",
        email: "olivia.brown@example.net",
        phone: "+16502530003",
        lines: [
            "I'd like to return a jacket, it's too small.",
            "Do I need the original box?",
            "I've sent it back today.",
        ],
    },
    Person {
        name: "Noah Davis",
        email: "noah.davis@example.net",
        phone: "+16502530004",
        lines: [
            "Can I pay in installments?",
            "Which cards do you accept?",
            "Great, ordering now.",
        ],
    },
    Person {
        name: "Sophia Miller",
        email: "sophia.miller@example.net",
        phone: "+16502530005",
        lines: [
            "The app logs me out every few minutes.",
            "I'm on Android 15.",
            "Clearing the cache fixed it, thanks.",
        ],
    },
    Person {
        name: "Liam Johnson",
        email: "liam.johnson@example.net",
        phone: "+16502530006",
        lines: [
            "Was I charged twice for order #5820?",
            "I see two pending payments.",
            "OK, I'll wait for the refund.",
        ],
    },
    Person {
        name: "Ava Martinez",
        email: "ava.martinez@example.net",
        phone: "+16502530007",
        lines: [
            "Do you ship to Canada?",
            "How long does it take?",
            "Perfect.",
        ],
    },
    Person {
        name: "Mason Lee",
        email: "mason.lee@example.net",
        phone: "+16502530008",
        lines: [
            "The blender arrived with a cracked jar.",
            "Photo attached in my email.",
            "A replacement would be great.",
        ],
    },
    Person {
        name: "Isabella Clark",
        email: "isabella.clark@example.net",
        phone: "+16502530009",
        lines: [
            "Is the blue sofa back in stock?",
            "Can you notify me when it is?",
            "Thank you!",
        ],
    },
    Person {
        name: "Ethan Walker",
        email: "ethan.walker@example.net",
        phone: "+16502530010",
        lines: [
            "I forgot my password and the reset email never comes.",
            "I checked spam too.",
            "Got it now.",
        ],
    },
    Person {
        name: "Mia Hall",
        email: "mia.hall@example.net",
        phone: "+16502530011",
        lines: [
            "Can I add gift wrapping after ordering?",
            "Order #7310.",
            "Lovely, thanks.",
        ],
    },
    Person {
        name: "Lucas Young",
        email: "lucas.young@example.net",
        phone: "+16502530012",
        lines: [
            "Your courier left my parcel at the wrong door.",
            "Neighbour doesn't have it either.",
            "Please open an investigation.",
        ],
    },
    Person {
        name: "Harper King",
        email: "harper.king@example.net",
        phone: "+16502530013",
        lines: [
            "Is there a student discount?",
            "I have a valid student card.",
            "Applied, thanks!",
        ],
    },
    Person {
        name: "Benjamin Scott",
        email: "ben.scott@example.net",
        phone: "+16502530014",
        lines: [
            "The invoice has the wrong company name.",
            "It should be Scott & Sons Ltd.",
            "Received the corrected one.",
        ],
    },
    Person {
        name: "Evelyn Green",
        email: "evelyn.green@example.net",
        phone: "+16502530015",
        lines: [
            "When will the winter collection launch?",
            "Any preview for members?",
            "Can't wait.",
        ],
    },
    Person {
        name: "Henry Adams",
        email: "henry.adams@example.net",
        phone: "+16502530016",
        lines: [
            "My warranty claim has been open for two weeks.",
            "Claim number W-2291.",
            "Any news?",
        ],
    },
    Person {
        name: "Abigail Baker",
        email: "abigail.baker@example.net",
        phone: "+16502530017",
        lines: [
            "Can I cancel my subscription?",
            "I'm moving abroad.",
            "Thanks for the quick help.",
        ],
    },
    Person {
        name: "نورة العتيبي",
        email: "noura.alotaibi@example.sa",
        phone: "+966501234501",
        lines: [
            "مرحباً، طلبي رقم ٤٥١٢ لم يصل حتى الآن.",
            "رقم التتبع لا يعمل.",
            "شكراً لكم، وصل الطلب اليوم.",
        ],
    },
    Person {
        name: "محمد الشهري",
        email: "mohammed.alshehri@example.sa",
        phone: "+966501234502",
        lines: [
            "أريد إرجاع الجوال، الشاشة فيها خط.",
            "هل أحتاج الفاتورة الأصلية؟",
            "تم إرسال المنتج.",
        ],
    },
    Person {
        name: "فاطمة الزهراني",
        email: "fatima.zahrani@example.sa",
        phone: "+966501234503",
        lines: ["هل يمكن الدفع عند الاستلام؟", "أنا في جدة.", "ممتاز، شكراً."],
    },
    Person {
        name: "عبدالله القحطاني",
        email: "abdullah.q@example.sa",
        phone: "+966501234504",
        lines: [
            "تم خصم المبلغ مرتين من بطاقتي.",
            "الطلب رقم ٧٨٢٠.",
            "متى يعود المبلغ؟",
        ],
    },
    Person {
        name: "سارة الدوسري",
        email: "sara.aldosari@example.sa",
        phone: "+966501234505",
        lines: [
            "التطبيق لا يقبل كلمة المرور الجديدة.",
            "جربت أكثر من مرة.",
            "الآن يعمل، شكراً جزيلاً.",
        ],
    },
    Person {
        name: "خالد المطيري",
        email: "khalid.mutairi@example.sa",
        phone: "+966501234506",
        lines: [
            "متى يتوفر الطراز الجديد؟",
            "هل يمكن الحجز المسبق؟",
            "سأنتظر الإشعار.",
        ],
    },
    Person {
        name: "ريم الحربي",
        email: "reem.harbi@example.sa",
        phone: "+966501234507",
        lines: [
            "وصلني مقاس خاطئ.",
            "طلبت مقاس ٤٠ ووصل ٣٨.",
            "أرجو الاستبدال بسرعة.",
        ],
    },
    Person {
        name: "يوسف الغامدي",
        email: "yousef.ghamdi@example.sa",
        phone: "+966501234508",
        lines: [
            "هل تشحنون إلى الكويت؟",
            "كم تكلفة الشحن؟",
            "تمام، سأطلب الآن.",
        ],
    },
    Person {
        name: "ليلى السبيعي",
        email: "layla.subaie@example.sa",
        phone: "+966501234509",
        lines: [
            "أريد تغيير عنوان التوصيل.",
            "العنوان الجديد في الرياض.",
            "شكراً على المساعدة.",
        ],
    },
    Person {
        name: "عمر البقمي",
        email: "omar.baqami@example.sa",
        phone: "+966501234510",
        lines: [
            "الضمان انتهى قبل أسبوع، هل يمكن الإصلاح؟",
            "الجهاز لا يشحن.",
            "سأحضره إلى الفرع.",
        ],
    },
    Person {
        name: "هند الشمري",
        email: "hind.shammari@example.sa",
        phone: "+966501234511",
        lines: ["هل لديكم خصم للطلاب؟", "أدرس في جامعة الملك سعود.", "شكراً."],
    },
    Person {
        name: "فهد العنزي",
        email: "fahad.anazi@example.sa",
        phone: "+966501234512",
        lines: [
            "الفاتورة باسم خاطئ.",
            "أرجو التصحيح.",
            "استلمت الفاتورة الصحيحة.",
        ],
    },
    Person {
        name: "منى الرشيدي",
        email: "mona.rashidi@example.sa",
        phone: "+966501234513",
        lines: [
            "أين طلبي؟ مر أسبوعان.",
            "رقم الطلب ٩٩١٠.",
            "لم يصلني أي رد بالبريد.",
        ],
    },
    Person {
        name: "سلمان الحارثي",
        email: "salman.harthi@example.sa",
        phone: "+966501234514",
        lines: [
            "كيف ألغي الاشتراك الشهري؟",
            "لا أستخدم الخدمة حالياً.",
            "تم، شكراً.",
        ],
    },
    Person {
        name: "علی رضایی",
        email: "ali.rezaei@example.ir",
        phone: "+989123456701",
        lines: [
            "سلام، سفارش من هنوز نرسیده.",
            "کد رهگیری کار نمی‌کند.",
            "ممنون، امروز رسید.",
        ],
    },
    Person {
        name: "زهرا محمدی",
        email: "zahra.mohammadi@example.ir",
        phone: "+989123456702",
        lines: [
            "می‌خواهم کفش را مرجوع کنم.",
            "سایزش کوچک است.",
            "بسته را ارسال کردم.",
        ],
    },
    Person {
        name: "رضا احمدی",
        email: "reza.ahmadi@example.ir",
        phone: "+989123456703",
        lines: [
            "آیا پرداخت اقساطی دارید؟",
            "با کارت ملت می‌شود؟",
            "عالی، سفارش دادم.",
        ],
    },
    Person {
        name: "مریم حسینی",
        email: "maryam.hosseini@example.ir",
        phone: "+989123456704",
        lines: [
            "دو بار از حسابم کسر شده.",
            "شماره سفارش ۵۵۲۱ است.",
            "کی برگشت داده می‌شود؟",
        ],
    },
    Person {
        name: "حسین کریمی",
        email: "hossein.karimi@example.ir",
        phone: "+989123456705",
        lines: [
            "برنامه روی گوشی من باز نمی‌شود.",
            "اندروید ۱۴ دارم.",
            "درست شد، ممنون.",
        ],
    },
    Person {
        name: "فاطمه موسوی",
        email: "fatemeh.mousavi@example.ir",
        phone: "+989123456706",
        lines: [
            "رنگ آبی دوباره موجود می‌شود؟",
            "لطفاً به من خبر بدهید.",
            "سپاس.",
        ],
    },
    Person {
        name: "محمد جعفری",
        email: "mohammad.jafari@example.ir",
        phone: "+989123456707",
        lines: [
            "گارانتی دستگاه چطور فعال می‌شود؟",
            "شماره سریال را فرستادم.",
            "ممنون از راهنمایی.",
        ],
    },
    Person {
        name: "سارا نوری",
        email: "sara.nouri@example.ir",
        phone: "+989123456708",
        lines: [
            "آدرس تحویل را اشتباه وارد کردم.",
            "آدرس جدید در شیراز است.",
            "تشکر.",
        ],
    },
    Person {
        name: "امیر صادقی",
        email: "amir.sadeghi@example.ir",
        phone: "+989123456709",
        lines: [
            "ارسال به مشهد چند روز طول می‌کشد؟",
            "هزینه ارسال چقدر است؟",
            "باشه، سفارش می‌دهم.",
        ],
    },
    Person {
        name: "نگار رحیمی",
        email: "negar.rahimi@example.ir",
        phone: "+989123456710",
        lines: [
            "کالا آسیب‌دیده به دستم رسید.",
            "عکس را ایمیل کردم.",
            "لطفاً تعویض کنید.",
        ],
    },
    Person {
        name: "مهدی قاسمی",
        email: "mahdi.ghasemi@example.ir",
        phone: "+989123456711",
        lines: [
            "رمز عبورم را فراموش کرده‌ام.",
            "ایمیل بازیابی نمی‌آید.",
            "حل شد.",
        ],
    },
    Person {
        name: "الهام یوسفی",
        email: "elham.yousefi@example.ir",
        phone: "+989123456712",
        lines: [
            "تخفیف دانشجویی دارید؟",
            "دانشجوی دانشگاه تهران هستم.",
            "ممنون.",
        ],
    },
    Person {
        name: "کاوه بهرامی",
        email: "kaveh.bahrami@example.ir",
        phone: "+989123456713",
        lines: [
            "فاکتور به نام شرکت صادر شود.",
            "نام شرکت: بهرامی و شرکا.",
            "دریافت شد.",
        ],
    },
    Person {
        name: "پریسا اکبری",
        email: "parisa.akbari@example.ir",
        phone: "+989123456714",
        lines: [
            "اشتراک ماهانه را چطور لغو کنم؟",
            "دیگر استفاده نمی‌کنم.",
            "انجام شد، سپاس.",
        ],
    },
    Person {
        name: "Daniel Wright",
        email: "daniel.wright@example.net",
        phone: "+16502530018",
        lines: [
            "Can I book an installation appointment?",
            "Weekday mornings work best.",
            "Tuesday is fine.",
        ],
    },
    Person {
        name: "Chloe Turner",
        email: "chloe.turner@example.net",
        phone: "+16502530019",
        lines: [
            "Your website shows the wrong price for SKU 1182.",
            "The cart says $49, the page $39.",
            "Thanks for honouring it.",
        ],
    },
    Person {
        name: "Samuel Lopez",
        email: "samuel.lopez@example.net",
        phone: "+16502530020",
        lines: [
            "Do you have an API for order status?",
            "We're a reseller.",
            "I'll read the docs, thanks.",
        ],
    },
    Person {
        name: "Grace Hill",
        email: "grace.hill@example.net",
        phone: "+16502530021",
        lines: [
            "The delivery driver was very rude.",
            "It happened this morning.",
            "I appreciate the follow-up.",
        ],
    },
    Person {
        name: "Jack Moore",
        email: "jack.moore@example.net",
        phone: "+16502530022",
        lines: [
            "Can I change the colour of my order?",
            "From black to white.",
            "Great.",
        ],
    },
];

pub(super) fn note_for(index: usize) -> &'static str {
    [
        "Checked the carrier portal: parcel is at the local depot.",
        "ملاحظة: العميل من كبار العملاء، يرجى المتابعة.",
        "یادداشت: مشتری دو بار تماس گرفته است.",
        "Refund approved by finance.",
        "Waiting on the warehouse to confirm stock.",
    ][index % 5]
}

pub(super) fn labels_for(index: usize) -> Vec<String> {
    let all = ["delivery", "returns", "billing", "vip", "app"];
    vec![
        all[index % all.len()].to_string(),
        all[(index + 2) % all.len()].to_string(),
    ]
}
