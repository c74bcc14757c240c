package demo

// The name tables below are made-up combinations of common Azerbaijani
// names; no entry describes a real person. Each table is ordered from the
// most to the least frequent: the generator weights entries by rank (see
// newWeighted), so a few surnames are very common, as in Baku, and
// namesakes occur.

// surname is one family name in its male and female forms. Names ending in
// -zadə or -li/-lı have one form for both sexes.
type surname struct {
	Male, Female string
}

// maleNames returns boys' first names, most frequent first. Fathers' names,
// which make the patronymic, are drawn from the same table.
func maleNames() []string {
	return []string{
		"Əli", "Hüseyn", "Məhəmməd", "Yusif", "Murad", "Elvin", "Tural", "Rəşad",
		"Orxan", "Kənan", "İlkin", "Ülvi", "Ömər", "İbrahim", "Ayxan", "Nihad",
		"Fərid", "Kamran", "Elnur", "Elçin", "Emin", "Anar", "Vüqar", "Vüsal",
		"Ramil", "Rauf", "Rüstəm", "Səbuhi", "Ceyhun", "Cavid", "Nicat", "Nurlan",
		"Toğrul", "Tunar", "Yaqub", "Mikayıl", "Əmir", "İsmayıl", "Davud", "Zaur",
		"Əhməd", "Həsən", "Mehdi", "Musa", "Rövşən", "Ruslan", "Samir", "Sənan",
		"Şahin", "Şamil", "Teymur", "Uğur", "Vasif", "Xəyal", "Zakir", "Aqil",
		"Azər", "Bəxtiyar", "Cəlil", "Elşən", "Elxan", "Eldar", "Emil", "Fuad",
		"Fərhad", "Habil", "Hikmət", "İlham", "İlqar", "Kamal", "Kərim", "Mahir",
		"Məmməd", "Namiq", "Nadir", "Oqtay", "Pərviz", "Rəhim", "Rza", "Sadiq",
		"Səməd", "Seymur", "Ümid", "Vaqif", "Yaşar", "Zeynal", "Abbas", "Bəhruz",
		"Aydın", "Arif", "Rəvan", "Cahid", "Qədir", "Vəli", "Tofiq", "Natiq",
	}
}

// femaleNames returns girls' first names, most frequent first.
func femaleNames() []string {
	return []string{
		"Zəhra", "Fatimə", "Nərmin", "Aysel", "Leyla", "Məryəm", "Günay", "Nigar",
		"Aylin", "Aynur", "Nuray", "Mədinə", "Xədicə", "Zeynəb", "Aytən", "Nərgiz",
		"Səbinə", "Ayla", "Lalə", "Gülnar", "Sevinc", "Könül", "Türkan", "Aidə",
		"Fidan", "Ülviyyə", "Şəbnəm", "Günel", "Nəzrin", "Aygün", "Sevda", "Elnarə",
		"Kamalə", "Nurlana", "Arzu", "Vüsalə", "Samirə", "Gülşən", "Həcər", "İnci",
		"Ayan", "Nilay", "Aysu", "Ülkər", "Rəna", "Sara", "Asya", "Ayşən",
		"Fərqanə", "Lamiyə", "Nailə", "Rəqsanə", "Səidə", "Tamilla", "Zərifə", "Aytac",
		"Banu", "Dilarə", "Elmira", "Esmira", "Gülay", "Gülnarə", "Humay", "İlahə",
		"Jalə", "Kövsər", "Mehriban", "Minarə", "Nazlı", "Nubar", "Pərvin", "Ramilə",
		"Röya", "Sevil", "Şəlalə", "Təranə", "Ulduz", "Vəfa", "Yeganə", "Zümrüd",
		"Aliyə", "Ayşə", "Ləman", "Mələk", "Nərminə", "Sona", "Şəfa", "Zəminə",
	}
}

// surnames returns family names, most frequent first. The forms without a
// gendered suffix come last, so they are rare.
func surnames() []surname {
	s := []surname{}
	for _, m := range []string{
		"Məmmədov", "Əliyev", "Hüseynov", "Həsənov", "Quliyev", "İsmayılov", "Cəfərov", "Abbasov",
		"Xəlilov", "Nağıyev", "Rzayev", "Süleymanov", "Kərimov", "Babayev", "Əhmədov", "İbrahimov",
		"Mustafayev", "Rəhimov", "Orucov", "Qasımov", "Hacıyev", "Bağırov", "Səfərov", "Musayev",
		"Vəliyev", "Mehdiyev", "Əsədov", "Zeynalov", "Rüstəmov", "Ağayev", "Sadıqov", "Həmidov",
		"Salmanov", "Novruzov", "Əsgərov", "Nəbiyev", "Bayramov", "Qurbanov", "Allahverdiyev", "Cavadov",
		"Tağıyev", "Kazımov", "Şükürov", "Əkbərov", "Mirzəyev", "Rəsulov", "Axundov", "Qafarov",
		"Paşayev", "Yusifov", "Şirinov", "Məlikov", "Nəsirov", "Fərzəliyev", "Heydərov", "Mahmudov",
		"Əmirov", "Səmədov", "Qənbərov", "Həmzəyev", "Seyidov", "Mikayılov", "Ələkbərov", "Eyvazov",
		"İsgəndərov", "Talıbov", "Sultanov", "Əzizov", "Vəzirov", "Aslanov", "Həşimov", "Bəşirov",
		"Dadaşov", "Nuriyev", "Ramazanov", "Şahbazov", "Qəhrəmanov", "Əfəndiyev", "Məhərrəmov", "Nəcəfov",
		"Camalov", "Ələsgərov", "Hümbətov", "Bəkirov",
	} {
		s = append(s, surname{Male: m, Female: m + "a"})
	}
	for _, n := range []string{
		"Məmmədli", "Əlizadə", "Həsənli", "Hüseynzadə", "Cəfərli", "Quluzadə", "Əhmədli", "Abbaszadə",
	} {
		s = append(s, surname{Male: n, Female: n})
	}
	return s
}
